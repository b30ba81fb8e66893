// The door page: the venue, the verdict for the door in large type, and each person checked in
// with their colour (names and numbers come masked from the server).
const VERDICTS = {
  pass: { text: "通行", tone: "green" },
  deny: { text: "禁止通行", tone: "yellow" },
  isolate: { text: "请原地等候，配合处置", tone: "red" },
};
const COLORS = { green: "绿码", yellow: "黄码", red: "红码" };

function shown(page) {
  if (!page) return { verdict: null, people: [] };
  return {
    verdict: VERDICTS[page.verdict],
    people: page.people.map((person) => ({
      name: person.name,
      idNumber: person.id_number || "",
      color: person.health.color,
      colorText: COLORS[person.health.color],
      role: person.role === "self" ? "本人" : "同行",
    })),
  };
}

Component({
  // A CheckInDisplay as POST /api/v1/check-ins answers it.
  props: { page: null },
  data: { verdict: null, people: [] },
  didMount() {
    this.setData(shown(this.props.page));
  },
  didUpdate(previous) {
    if (previous.page !== this.props.page) this.setData(shown(this.props.page));
  },
});
