"""Prometheus metrics, one registry per application so tests can build many apps."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """The service's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "callrec_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "callrec_http_request_duration_seconds",
            "HTTP request duration by route template",
            ["route"],
            registry=self.registry,
        )
        self.job_runs = Counter(
            "callrec_scheduled_job_runs",
            "Scheduled job ticks by outcome: ok, error, or skipped (another node had it)",
            ["job", "outcome"],
            registry=self.registry,
        )
        self.job_last_success = Gauge(
            "callrec_scheduled_job_last_success_timestamp_seconds",
            "When this process last finished each scheduled job without error",
            ["job"],
            registry=self.registry,
        )
        self.requests_overdue = Gauge(
            "callrec_subject_requests_overdue",
            "Open data-subject requests past their due date",
            registry=self.registry,
        )
        self.requests_due_soon = Gauge(
            "callrec_subject_requests_due_soon",
            "Open data-subject requests due within the warning period",
            registry=self.registry,
        )
        self.deadline_alerts = Counter(
            "callrec_subject_request_deadline_alerts",
            "Deadline warnings and overdue alerts raised by the deadline monitor",
            ["kind"],
            registry=self.registry,
        )
        self.audit_chain_intact = Gauge(
            "callrec_audit_chain_intact",
            "1 if the last audit-chain verification found no break, 0 if it did",
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
