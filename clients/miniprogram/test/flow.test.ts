// The resident's flow and a venue manager's, through the kit, against the real server.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { ApiError, fetchTransport, VenuecodeClient, type HttpResponse, type Transport } from "../src/index.js";
import { residentId, startServer, type RunningServer } from "./server.js";

let server: RunningServer;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server.stop();
});

function client(transport: Transport = fetchTransport()): VenuecodeClient {
  return new VenuecodeClient({ baseUrl: server.baseUrl, transport, sleep: async () => {} });
}

/** A venue applied for by a manager and approved by a county reviewer; its manager's client. */
let venues = 0;
async function approvedVenue(name: string) {
  venues += 1;
  const manager = client();
  const session = await manager.post("/api/v1/sessions/dev", { body: { platform: "wechat", subject: `manager-${venues}` } });
  manager.token = session.token;
  const applied = await manager.post("/api/v1/venues", {
    body: {
      manager: { name: "王建国", phone: "13907351234", id_number: residentId("431025", "1980-03-15", 1) },
      name,
      category: "daily_shopping",
      subtype: "supermarket",
      region_code: "431025100",
      address: "解放路88号",
      location: { lat: 25.2797, lng: 112.5634 },
      entrances: [{ name: "东门" }, { name: "西门" }],
    },
  });
  assert.equal(applied.status, "pending");

  const username = `reviewer-${applied.id}`;
  server.createStaff(username, "reviewer", "431025", "a reviewer's long password");
  const reviewer = client();
  const staff = await reviewer.post("/api/v1/staff-sessions", {
    body: { username, password: "a reviewer's long password" },
  });
  reviewer.token = staff.token;
  const approved = await reviewer.post("/api/v1/reviews/{id}", {
    path: { id: applied.id },
    body: { decision: "approve" },
  });
  assert.equal(approved.status, "approved");
  // The reviewer's list comes a page at a time; `all` follows the cursor to the end.
  const seen: number[] = [];
  for await (const decided of reviewer.all("/api/v1/reviews", { query: { status: "all", limit: 1 } })) {
    seen.push(decided.id);
  }
  assert.ok(seen.includes(approved.id));
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), "oldest first, never repeated");
  return { manager, venue: approved };
}

test("a venue manager applies, is approved, and gets each entrance's code", async () => {
  const { manager, venue } = await approvedVenue("临武县舜峰镇套件测试超市");
  assert.equal(venue.entrances.length, 2);
  const entrance = venue.entrances[0];
  assert.ok(entrance);
  const url = entrance.code_url;
  assert.ok(url, "an open entrance has a code");
  assert.match(url, /\/v\//i);
  const svg = await manager.text(`/api/v1/venues/${venue.id}/entrances/${entrance.id}/code.svg`);
  assert.match(svg, /^<\?xml|<svg/);
  const mine = await manager.get("/api/v1/me/venues", {});
  assert.ok(mine.items.some((item) => item.id === venue.id && item.role === "manager"));
});

test("a resident logs in, consents, adds a companion, scans, sees the door page and the itinerary", async () => {
  const { venue } = await approvedVenue("临武县舜峰镇居民流程超市");
  const code = venue.entrances[0]?.code_url ?? assert.fail("the venue has an entrance");

  const resident = client();
  const session = await resident.post("/api/v1/sessions/dev", { body: { platform: "wechat", subject: "resident-flow" } });
  resident.token = session.token;
  // Before consenting, a scan is refused with a typed error.
  await assert.rejects(resident.post("/api/v1/check-ins", { body: { code } }), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 403);
    assert.equal(error.code, "consent_required");
    // The code narrows the details: `missing` lists the elements still to consent to.
    assert.equal(error.body?.code, "consent_required");
    if (error.body?.code === "consent_required") {
      assert.deepEqual([...error.body.details.missing].sort(), ["identity", "phone", "profile"]);
    }
    return true;
  });
  const me = await resident.put("/api/v1/me/consent", {
    body: {
      profile: { nickname: "小程序居民" },
      phone: { wechat_code: "13800001111" },
      identity: { name: "李居民", id_number: residentId("431025", "1985-06-01", 21) },
    },
  });
  assert.equal(me.consent.identity, true);

  const companion = await resident.post("/api/v1/me/companions", {
    body: { name: "李奶奶", id_number: residentId("431025", "1945-02-03", 22), relation: "奶奶" },
  });
  assert.equal(companion.name, "李**", "masked");

  const page = await resident.post("/api/v1/check-ins", {
    body: { code, companion_ids: [companion.id], location: { lat: 25.2797, lng: 112.5634 } },
  });
  assert.equal(page.venue.id, venue.id);
  assert.equal(page.people.length, 2);
  assert.deepEqual(
    page.people.map((person) => person.role),
    ["self", "companion"],
  );
  assert.ok(["pass", "deny", "isolate"].includes(page.verdict));

  const itinerary = await resident.get("/api/v1/me/check-ins", { query: { days: 14 } });
  assert.ok(itinerary.items.some((item) => item.check_in_id === page.check_in_id));

  // The door checks the pass the page shows; the answer narrows on `valid`.
  const door = client();
  const check = await door.get("/api/v1/passes/verify", { query: { token: page.pass.token } });
  assert.equal(check.valid, true);
  if (check.valid) {
    assert.equal(check.check_in_id, page.check_in_id);
    assert.equal(check.venue.id, venue.id);
    assert.equal(check.people.length, 2);
  }
  const forged = await door.get("/api/v1/passes/verify", { query: { token: `${page.pass.token}x` } });
  assert.equal(forged.valid, false);
  if (!forged.valid) assert.equal(forged.reason, "invalid");
  const keys = await door.get("/.well-known/jwks.json", {});
  assert.ok(keys.keys.some((key) => key.crv === "Ed25519"));

  // A bad field comes back named.
  await assert.rejects(
    resident.post("/api/v1/me/companions", { body: { name: "", id_number: "1", relation: "朋友" } }),
    (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.code, "validation_failed");
      const fields = error.fieldErrors();
      assert.equal(fields.name?.code, "required");
      return true;
    },
  );
});

test("a scan whose answer is lost is sent again with its key and recorded once", async () => {
  const { venue } = await approvedVenue("临武县舜峰镇弱信号超市");
  const code = venue.entrances[1]?.code_url ?? assert.fail("the venue has two entrances");
  const real = fetchTransport();
  const sent: string[] = [];
  let lost = 0;
  // The first answer reaches the server's side and is lost on the way back, as in a weak signal.
  const weak: Transport = async (request) => {
    sent.push(request.headers["idempotency-key"] ?? "");
    const answer: HttpResponse = await real(request);
    if (request.url.endsWith("/api/v1/check-ins") && lost === 0) {
      lost += 1;
      throw new Error("the connection dropped");
    }
    return answer;
  };
  const resident = client(weak);
  const session = await resident.post("/api/v1/sessions/dev", { body: { platform: "alipay", subject: "weak-signal" } });
  resident.token = session.token;
  await resident.put("/api/v1/me/consent", {
    body: {
      profile: { nickname: "弱信号" },
      phone: { alipay_response: "13800002222" },
      identity: { name: "赵信号", id_number: residentId("431025", "1990-01-01", 31) },
    },
  });
  sent.length = 0;
  const page = await resident.post("/api/v1/check-ins", { body: { code } });
  assert.equal(sent.length, 2, "sent twice");
  assert.ok(sent[0] && sent[0] === sent[1], "with the same key");
  const itinerary = await resident.get("/api/v1/me/check-ins", {});
  const here = itinerary.items.filter((item) => item.venue === venue.name);
  assert.equal(here.length, 1, "recorded once");
  assert.equal(here[0]?.check_in_id, page.check_in_id);
});

test("a shed answer is waited out as Retry-After says, with jitter, never at once", async () => {
  const waits: number[] = [];
  let calls = 0;
  const busy: Transport = async (): Promise<HttpResponse> => {
    calls += 1;
    if (calls < 3) {
      return {
        status: 503,
        headers: { "retry-after": "2", "content-type": "application/json" },
        body: JSON.stringify({ error: { code: "overloaded", message: "服务繁忙，请稍后再试", details: {} } }),
      };
    }
    return {
      status: 200,
      headers: {},
      body: JSON.stringify({ id: "gb", name: "场所分类", source: "test", categories: [] }),
    };
  };
  const kit = new VenuecodeClient({
    baseUrl: "http://server.invalid",
    transport: busy,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
  });
  const categories = await kit.get("/api/v1/venue-categories", {});
  assert.deepEqual(categories.categories, []);
  assert.deepEqual(waits, [2500, 2500]);

  const always: Transport = async (): Promise<HttpResponse> => ({
    status: 503,
    headers: { "retry-after": "1" },
    body: JSON.stringify({ error: { code: "database_unavailable", message: "数据服务暂时不可用", details: {} } }),
  });
  const giving = new VenuecodeClient({ baseUrl: "http://server.invalid", transport: always, sleep: async () => {}, maxRetries: 2 });
  await assert.rejects(giving.get("/api/v1/venue-categories", {}), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, "database_unavailable");
    assert.equal(error.retryAfter, 1);
    return true;
  });
});

test("an error code this kit does not know keeps its code and message, without a typed body", async () => {
  const newer: Transport = async (): Promise<HttpResponse> => ({
    status: 409,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ error: { code: "brand_new_refusal", message: "新的拒绝原因", details: { n: 1 } } }),
  });
  const kit = new VenuecodeClient({ baseUrl: "http://server.invalid", transport: newer, sleep: async () => {} });
  await assert.rejects(kit.get("/api/v1/venue-categories", {}), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 409);
    assert.equal(error.code, "brand_new_refusal");
    assert.equal(error.message, "新的拒绝原因");
    assert.deepEqual(error.details, { n: 1 });
    assert.equal(error.body, null);
    return true;
  });
});
