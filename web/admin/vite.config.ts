import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// The gateway serves dist/ at `/`; in `npm run dev` the API is proxied to a local `scrm serve`.
export default defineConfig({
  plugins: [vue()],
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/scrm.": "http://127.0.0.1:8080",
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
  },
});
