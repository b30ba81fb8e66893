// The door page: the venue, the verdict for the door in large type, and each person checked in
// with their colour (names and numbers come masked from the server).
const VERDICTS = {
  pass: { text: "通行", tone: "green" },
  deny: { text: "禁止通行", tone: "yellow" },
  isolate: { text: "请原地等候，配合处置", tone: "red" },
};
const COLORS = { green: "绿码", yellow: "黄码", red: "红码" };

Component({
  properties: {
    // A CheckInDisplay as POST /api/v1/check-ins answers it.
    page: { type: Object, value: null },
  },
  data: { verdict: null, people: [] },
  observers: {
    page(page) {
      if (!page) return;
      this.setData({
        verdict: VERDICTS[page.verdict],
        people: page.people.map((person) => ({
          name: person.name,
          idNumber: person.id_number || "",
          color: person.health.color,
          colorText: COLORS[person.health.color],
          role: person.role === "self" ? "本人" : "同行",
        })),
      });
    },
  },
});
