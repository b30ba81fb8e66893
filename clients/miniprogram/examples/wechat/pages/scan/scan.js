// The scan: the camera reads the venue's code, the kit records the check-in (with an
// Idempotency-Key, so a retry in a weak signal is recorded once) and the door page shows.
// Written with Component() so that it runs in miniprogram-simulate as in the mini-program.
Component({
  data: { page: null, error: "", busy: false },
  methods: {
    scan() {
      if (this.data.busy) return Promise.resolve();
      return new Promise((resolve) => {
        wx.scanCode({
          onlyFromCamera: true,
          scanType: ["qrCode"],
          success: (result) => resolve(this.checkIn(result.result)),
          fail: () => resolve(),
        });
      });
    },
    async checkIn(code) {
      this.setData({ busy: true, error: "" });
      try {
        const page = await getApp().api.post("/api/v1/check-ins", { body: { code } });
        this.setData({ page });
      } catch (error) {
        // An ApiError's message is Chinese text for the person; consent first when asked.
        this.setData({ page: null, error: error.message || "网络连接失败，请稍后再试" });
        if (error.code === "consent_required") wx.navigateTo({ url: "/pages/consent/consent" });
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});
