import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The sidebar is served by the gateway at /sidebar/; `npm run dev` proxies the API to a local scrm.
export default defineConfig({
  base: '/sidebar/',
  plugins: [vue()],
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
