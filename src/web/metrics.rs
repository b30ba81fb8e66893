//! Prometheus metrics: requests by route and status, latency, database pool usage, admission
//! (shed, abandoned, queue wait, in flight) and the database circuit.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::db::replica::Replica;
use crate::db::Database;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    purged: IntCounterVec,
    messages: IntCounterVec,
    shed: IntCounterVec,
    abandoned: prometheus::IntCounter,
    admission_wait: prometheus::Histogram,
    in_flight: IntGauge,
    queued: IntGauge,
    circuit_state: IntGauge,
    circuit_opened: IntGauge,
    replica_lag: IntGauge,
    reads_behind: IntGaugeVec,
}

/// Buckets in seconds of the wait for a place (most wait nothing).
const WAIT_BUCKETS: &[f64] = &[0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1];

/// Buckets in seconds, from a cached lookup to a slow trace.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("venuecode".into()), None).expect("a static prefix is valid");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )
        .expect("static metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response, by method and route",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )
        .expect("static metric definition");
        let pool_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )
        .expect("static metric definition");
        let pool_max = IntGauge::new("db_pool_max_connections", "Database pool size limit")
            .expect("static metric definition");
        let purged = IntCounterVec::new(
            Opts::new(
                "purged_rows_total",
                "Rows deleted by the retention purge, by table",
            ),
            &["table"],
        )
        .expect("static metric definition");
        let messages = IntCounterVec::new(
            Opts::new(
                "platform_messages_total",
                "Tries of platform messages by platform and outcome (sent, not_subscribed, failed, skipped, retried)",
            ),
            &["platform", "outcome"],
        )
        .expect("static metric definition");
        let shed = IntCounterVec::new(
            Opts::new(
                "requests_shed_total",
                "Requests answered 503 overloaded by admission control, by reason",
            ),
            &["reason"],
        )
        .expect("static metric definition");
        let abandoned = prometheus::IntCounter::new(
            "requests_abandoned_total",
            "Requests whose client went away while they waited for a place (never started)",
        )
        .expect("static metric definition");
        let admission_wait = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "admission_wait_seconds",
                "Time admitted requests waited for a place",
            )
            .buckets(WAIT_BUCKETS.to_vec()),
        )
        .expect("static metric definition");
        let in_flight = IntGauge::new("requests_in_flight", "Requests being served")
            .expect("static metric definition");
        let queued = IntGauge::new("requests_queued", "Requests waiting for a place")
            .expect("static metric definition");
        let circuit_state = IntGauge::new(
            "db_circuit_state",
            "Database circuit: 0 closed, 1 open (calls refused), 2 open with a probe out",
        )
        .expect("static metric definition");
        let circuit_opened = IntGauge::new(
            "db_circuit_opened_total",
            "Times the database circuit opened since start",
        )
        .expect("static metric definition");
        let replica_lag = IntGauge::new(
            "db_replica_lag_ms",
            "Replay lag of the standby that serves reads (DATABASE_READ_URL), -1 when unknown",
        )
        .expect("static metric definition");
        let reads_behind = IntGaugeVec::new(
            Opts::new(
                "db_reads_behind_total",
                "Reads that may be a little behind, by where they were served since start",
            ),
            &["served_by"],
        )
        .expect("static metric definition");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(messages.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_max.clone()),
            Box::new(purged.clone()),
            Box::new(shed.clone()),
            Box::new(abandoned.clone()),
            Box::new(admission_wait.clone()),
            Box::new(in_flight.clone()),
            Box::new(queued.clone()),
            Box::new(circuit_state.clone()),
            Box::new(circuit_opened.clone()),
            Box::new(replica_lag.clone()),
            Box::new(reads_behind.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        Self {
            registry,
            requests,
            latency,
            pool_connections,
            pool_max,
            purged,
            messages,
            shed,
            abandoned,
            admission_wait,
            in_flight,
            queued,
            circuit_state,
            circuit_opened,
            replica_lag,
            reads_behind,
        }
    }

    pub fn observe_shed(&self, reason: &str) {
        self.shed.with_label_values(&[reason]).inc();
    }

    pub fn observe_abandoned(&self) {
        self.abandoned.inc();
    }

    pub fn observe_admission_wait(&self, seconds: f64) {
        self.admission_wait.observe(seconds);
    }

    pub fn observe_purge(&self, counts: &[(&'static str, usize)]) {
        for (table, count) in counts {
            self.purged
                .with_label_values(&[table])
                .inc_by(*count as u64);
        }
    }

    /// Counts one try of a platform message.
    pub fn observe_message(&self, platform: &str, outcome: &str) {
        self.messages.with_label_values(&[platform, outcome]).inc();
    }

    /// Records one finished request. `route` is the matched pattern (`/api/v1/venues/{id}`),
    /// never the raw path, so the label set stays small.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The registry in Prometheus text format, with pool and circuit gauges read now, and the
    /// admission's (requests in flight, requests queued) when this node admits requests.
    pub fn render(
        &self,
        db: &Database,
        replica: Option<&Replica>,
        admission: Option<(usize, usize)>,
    ) -> String {
        if let Some(replica) = replica {
            self.replica_lag.set(replica.lag());
            let (standby, primary) = replica.reads();
            for (served_by, reads) in [("replica", standby), ("primary", primary)] {
                self.reads_behind
                    .with_label_values(&[served_by])
                    .set(i64::try_from(reads).unwrap_or(i64::MAX));
            }
        }
        if let Some((in_flight, queued)) = admission {
            self.in_flight.set(in_flight as i64);
            self.queued.set(queued as i64);
        }
        self.circuit_state.set(db.circuit().state() as i64);
        self.circuit_opened.set(db.circuit().opened_total() as i64);
        let (open, idle, max) = db.pool_state();
        self.pool_connections
            .with_label_values(&["idle"])
            .set(i64::from(idle));
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(open.saturating_sub(idle)));
        self.pool_max.set(i64::from(max));
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding into memory cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
