// The WeChat example pages in miniprogram-simulate: the scan page asks the camera, records the
// check-in through the app's client and shows the door page; a refusal shows its message.
const path = require("node:path");
const simulate = require("miniprogram-simulate");

const pages = path.join(__dirname, "..", "pages");
// Loaded once: the door component with it, through the page's usingComponents.
const scanPage = simulate.load(path.join(pages, "scan", "scan"));

// A door page as POST /api/v1/check-ins answers it (a real answer's shape, see api.d.ts).
const doorPage = {
  check_in_id: 7,
  scanned_at: "2026-12-07T10:00:00+08:00",
  offline: false,
  venue: { id: 1, name: "临武县舜峰镇好又多超市", entrance: "东门", address: "解放路88号", category: "生活购物场所 · 超市" },
  verdict: "deny",
  notice: "黄码人员请配合核酸检测",
  people: [
    { role: "self", temperature: null, name: "李**", id_type: "resident_id", id_number: "4310**********0018", health: { color: "green", updated_at: null, test: null } },
    { role: "companion", temperature: null, name: "李**", id_type: "resident_id", id_number: "4310**********0026", health: { color: "yellow", updated_at: null, test: null } },
  ],
};

function render(api, scanned) {
  global.getApp = () => ({ api });
  global.wx.scanCode = jest.fn(({ success }) => success({ result: scanned }));
  global.wx.navigateTo = jest.fn();
  const scan = simulate.render(scanPage);
  scan.attach(document.createElement("parent-wrapper"));
  return scan;
}

test("a scan shows the door page: venue, verdict, each person and colour", async () => {
  const api = { post: jest.fn(async () => doorPage) };
  const scan = render(api, "https://code.example.gov.cn/v/abc");
  await scan.instance.scan();
  await simulate.sleep(0);

  expect(api.post).toHaveBeenCalledWith("/api/v1/check-ins", { body: { code: "https://code.example.gov.cn/v/abc" } });
  const door = scan.querySelector("#door");
  expect(door.querySelector(".venue").dom.textContent).toBe("临武县舜峰镇好又多超市");
  const verdict = door.querySelector(".verdict");
  expect(verdict.dom.textContent).toBe("禁止通行");
  expect(verdict.dom.className).toContain("yellow");
  const people = door.querySelectorAll(".person");
  expect(people).toHaveLength(2);
  expect(people[0].dom.textContent).toContain("本人");
  expect(door.querySelectorAll(".color").map((c) => c.dom.textContent)).toEqual(["绿码", "黄码"]);
  expect(door.querySelectorAll(".color")[1].dom.className).toContain("yellow");
  expect(scan.querySelector(".error")).toBeUndefined();
});

test("a refusal shows the server's message and sends the resident to consent when asked", async () => {
  const refusal = Object.assign(new Error("请先同意授权昵称头像、手机号和实名信息"), { code: "consent_required", status: 403 });
  const api = { post: jest.fn(async () => { throw refusal; }) };
  const scan = render(api, "https://code.example.gov.cn/v/abc");
  await scan.instance.scan();
  await simulate.sleep(0);

  expect(scan.querySelector(".error").dom.textContent).toBe("请先同意授权昵称头像、手机号和实名信息");
  expect(global.wx.navigateTo).toHaveBeenCalledWith({ url: "/pages/consent/consent" });
  expect(scan.querySelector("#door").querySelector(".venue")).toBeUndefined();
});
