// Demo mode's stand-in for the WeCom JS-SDK, loaded only when the server runs the demo corp. The current
// chat comes from the page's query (`?contact=<external_userid>` or `?chat=<chat_id>`); messages "sent" are
// kept in `window.__scrmDemoSent` and shown as a toast, since there is no WeCom chat to put them in.

export function demoSdk() {
  const params = new URLSearchParams(window.location.search);
  const contact = params.get('contact');
  const chat = params.get('chat');
  window.__scrmDemoSent = [];
  const handlers = {
    getContext: () => ({ entry: chat ? 'group_chat_tools' : 'single_chat_tools' }),
    getCurExternalContact: () => (contact ? { userId: contact } : null),
    getCurExternalChat: () => (chat ? { chatId: chat } : null),
    sendChatMessage: (args) => {
      window.__scrmDemoSent.push(args);
      return {};
    },
  };
  return {
    demo: true,
    config() {},
    agentConfig(options) {
      options.success?.({ errMsg: 'agentConfig:ok' });
    },
    invoke(name, args, callback) {
      const handler = handlers[name];
      const result = handler ? handler(args) : null;
      callback(result ? { err_msg: `${name}:ok`, ...result } : { err_msg: `${name}:fail` });
    },
  };
}
