// The mini-program's app: one client of the venuecode API for every page (getApp().api).
// `venuecode/` is the kit built (npm run build in clients/miniprogram: dist/src) and copied here.
import { VenuecodeClient, wxTransport } from "./venuecode/index.js";

App({
  api: new VenuecodeClient({ baseUrl: "https://code.example.gov.cn", transport: wxTransport(wx) }),
  async onLaunch() {
    const { code } = await wx.login();
    const session = await this.api.post("/api/v1/sessions/wechat", { body: { code } });
    this.api.token = session.token;
  },
});
