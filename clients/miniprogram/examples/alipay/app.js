// The mini-program's app: one client of the venuecode API for every page (getApp().api).
// `venuecode/` is the kit built (npm run build in clients/miniprogram: dist/src) and copied here.
import { VenuecodeClient, myTransport } from "./venuecode/index.js";

App({
  api: new VenuecodeClient({ baseUrl: "https://code.example.gov.cn", transport: myTransport(my) }),
  onLaunch() {
    my.getAuthCode({
      scopes: "auth_base",
      success: async ({ authCode }) => {
        const session = await this.api.post("/api/v1/sessions/alipay", { body: { auth_code: authCode } });
        this.api.token = session.token;
      },
    });
  },
});
