// The WeCom JS-SDK: the real one inside WeCom (signed by the server), or, in demo mode, a shim that stands in
// for it in a normal browser.

const APIS = ['getCurExternalContact', 'getCurExternalChat', 'sendChatMessage', 'getContext'];

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`无法加载 ${src}`));
    document.head.appendChild(script);
  });
}

async function realSdk(jssdk) {
  await loadScript('https://res.wx.qq.com/open/js/jweixin-1.2.0.js');
  await loadScript('https://open.work.weixin.qq.com/wwopen/js/jwxwork-1.0.0.js');
  const wx = window.wx;
  wx.config({
    beta: true,
    debug: false,
    appId: jssdk.corpid,
    timestamp: jssdk.config.timestamp,
    nonceStr: jssdk.config.nonceStr,
    signature: jssdk.config.signature,
    jsApiList: APIS,
  });
  await new Promise((resolve, reject) => {
    wx.ready(() =>
      wx.agentConfig({
        corpid: jssdk.corpid,
        agentid: String(jssdk.agentid),
        timestamp: jssdk.agentConfig.timestamp,
        nonceStr: jssdk.agentConfig.nonceStr,
        signature: jssdk.agentConfig.signature,
        jsApiList: APIS,
        success: resolve,
        fail: (result) => reject(new Error(result.errMsg || 'agentConfig 失败')),
      }),
    );
    wx.error((result) => reject(new Error(result.errMsg || 'config 失败')));
  });
  return wx;
}

/** Sets up the JS-SDK for `context` (from /api/sidebar/context); resolves to an object with `invoke`. */
export async function setUpSdk(context) {
  if (context.demo) {
    const { demoSdk } = await import('./demo-shim.js');
    return demoSdk();
  }
  if (!context.jssdk) throw new Error(context.jssdkError || '无法签名 JS-SDK');
  return realSdk(context.jssdk);
}

/** `wx.invoke` as a promise; rejects unless WeCom answers `<name>:ok`. */
export function invoke(wx, name, args = {}) {
  return new Promise((resolve, reject) => {
    wx.invoke(name, args, (result) => {
      if (result.err_msg === `${name}:ok`) resolve(result);
      else reject(new Error(result.err_msg || `${name} 失败`));
    });
  });
}
