#!/usr/bin/env python3
"""Prints the comparison table of a benchmark run from JMH's JSON results.

Usage: report.py RESULTS_DIR [--markdown FILE] [--page FILE]

Reads every *.json in RESULTS_DIR (JMH's -rf json output: main.json, flavour-atomic.json, ...), prints each
benchmark's figures in ns per item (the audit benchmark, 7, in events per second), Sluice's beside its peers', the
ratios against the targets, the hand-off fork by fork against its stability targets,
if the run had -prof gc the bytes allocated per item, and every benchmark's figure fork by fork. A benchmark that did not run (or failed: the run script
reports failures from JMH's log) shows as '-'. Exits 1 if a result file cannot be read.

--page FILE writes the results page (benchmarks/RESULTS.md): the run's command and machine (from env.txt in
RESULTS_DIR), every table, the targets with their verdicts, and the hand-written section on the misses and their
reasons, which it keeps from the page it replaces (everything from the line MISSES_HEADING on).
"""

import glob
import json
import statistics
import math
import os
import sys

PKG = "dev.sluice.pipeline.benchmarks."

# Units: benchmarks 1 to 6 score nanoseconds per item (lower is better; benchmark 6 also shows items per second);
# benchmark 7 (AuditWriterBenchmark) runs in throughput mode and scores events per second (higher is better).


def marked_entries(folder, marker):
    """The flat JSON objects that benchmarks print after MARKER in the run's JMH logs, anywhere in a line."""
    for path in sorted(glob.glob(os.path.join(folder, "*.log"))):
        with open(path, errors="replace") as f:
            for line in f:
                at = line.find(marker + " {")
                if at >= 0:
                    start = at + len(marker) + 1
                    yield json.loads(line[start:line.index("}", start) + 1])


class Results:
    """JMH results indexed by (Class.method, frozenset of params)."""

    def __init__(self):
        self.by_key = {}
        self.benchmarks_seen = set()
        self.latencies = {}
        self.probes = {}

    def load_probes(self, folder):
        """The CHANNEL_PROBE lines the chain and hand-off print per fork when run with the channel probe on."""
        self.probes = {}
        for entry in marked_entries(folder, "CHANNEL_PROBE"):
            name = entry["benchmark"].removeprefix(PKG)
            self.probes.setdefault((name, entry["params"]), []).append(entry)

    def probe(self, name, params=""):
        """Switches (parks and yields) per item-hop over the forks of one probed benchmark, or None."""
        entries = self.probes.get((name, params))
        if not entries:
            return None
        hops = sum(e["hops"] for e in entries)
        switches = sum(e["senderParks"] + e["receiverParks"] + e["yields"] + e.get("lostRaces", 0) for e in entries)
        parks = sum(e["senderParks"] + e["receiverParks"] for e in entries)
        return (switches / hops, parks / hops) if hops else None

    def lost_races(self, name, params=""):
        """Compare-and-sets lost to a thread of the same side (each followed by a yield) per item-hop, or None."""
        entries = self.probes.get((name, params))
        hops = sum(e["hops"] for e in entries) if entries else 0
        return sum(e.get("lostRaces", 0) for e in entries) / hops if hops else None

    def load_latencies(self, folder):
        """The LATENCY lines LatencyBenchmark prints at the end of each fork, from the run's JMH logs: per pipeline,
        load and pacer (lines without one are of the spinning source, the only one before), each figure is the
        median of the forks' (a fork's threads land on the carriers once, so forks differ)."""
        forks = {}
        for entry in marked_entries(folder, "LATENCY"):
            key = (entry["pipeline"], int(entry["load"]), entry.get("pacer", "spin"))
            forks.setdefault(key, []).append(entry)
        self.latencies = {key: {field: statistics.median(e[field] for e in entries)
                                for field in ("p50", "p99", "p999", "intervalNanos")}
                          for key, entries in forks.items()}

    def load(self, path):
        with open(path) as f:
            runs = json.load(f)
        for run in runs:
            name = run["benchmark"].removeprefix(PKG)
            params = frozenset((run.get("params") or {}).items())
            self.by_key[(name, params)] = run
            self.benchmarks_seen.add(name)

    def get(self, name, **params):
        want = frozenset((k, str(v)) for k, v in params.items())
        for (n, p), run in self.by_key.items():
            if n == name and want <= p:
                return run
        return None

    def score(self, name, **params):
        run = self.get(name, **params)
        return None if run is None else run["primaryMetric"]["score"]


def fmt(value, digits=1):
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def cell(run):
    """Score ± error of one result, or '-' if it did not run."""
    if run is None:
        return "-"
    m = run["primaryMetric"]
    err = m.get("scoreError")
    if err is None or (isinstance(err, float) and math.isnan(err)) or err == "NaN":
        return fmt(m["score"])
    return f"{fmt(m['score'])} ±{fmt(err)}"


def print_table(out, title, header, rows, labels=0):
    """Appends a Markdown table; the first `labels` columns name the row, the rest are figures."""
    out.append("")
    if title:
        out.append(title)
    if all(str(c) in ("-", "") for r in rows for c in r[labels:]):
        out.append("(not run)")
        return
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(r):
        return "| " + " | ".join(str(c).ljust(widths[i]) if i < max(labels, 1) else str(c).rjust(widths[i])
                                 for i, c in enumerate(r)) + " |"
    out.append(line(header))
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        out.append(line(r))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fork_means(run):
    """The mean of each fork's measured iterations, in fork order ([] if the run did not happen)."""
    if run is None:
        return []
    raw = run["primaryMetric"].get("rawData") or []
    return [sum(fork) / len(fork) for fork in raw if fork]


def forks_cell(run):
    means = fork_means(run)
    return " / ".join(fmt(m) for m in means) if means else "-"


class Targets:
    def __init__(self):
        self.rows = []

    def at_most(self, label, value, limit, unjudged=None):
        verdict = unjudged or (None if value is None else value <= limit)
        self.rows.append((label, value, f"≤ {limit:g}", verdict))

    def at_least(self, label, value, limit):
        self.rows.append((label, value, f"≥ {limit:g}", None if value is None else value >= limit))

    def informative(self, label, value, note):
        """A ratio shown beside the targets with no rule: its verdict is the note, as a target not judged has."""
        self.rows.append((label, value, "-", note))


def hand_off(r, out, targets):
    impls = [("Sluice SPSC", "sluiceSpsc"), ("Sluice MPMC", "sluiceMpmc"), ("Sluice ref", "sluiceReference"),
             ("ABQ", "arrayBlockingQueue"), ("LBQ", "linkedBlockingQueue"), ("jox", "jox")]
    rows = []
    for threads in ("virtual", "platform"):
        for cap in (16, 1024):
            row = [threads, cap]
            for _, method in impls:
                row.append(cell(r.get("HandOffBenchmark." + method, capacity=cap, threads=threads)))
            row.append(cell(r.get("SpinningLimitBenchmark.jctoolsSpscSpinning", capacity=cap))
                       if threads == "platform" else "")
            rows.append(row)
    print_table(out, "1. Hand-off, 1 producer / 1 consumer, 1,000,000 items: ns per item (± 99.9% CI)",
                ["threads", "capacity"] + [n for n, _ in impls] + ["spinning limit"], rows, labels=2)
    for cap in (16, 1024):
        abq = r.score("HandOffBenchmark.arrayBlockingQueue", capacity=cap, threads="virtual")
        for label, method in impls[:2]:
            s = r.score("HandOffBenchmark." + method, capacity=cap, threads="virtual")
            limit = 0.75 if (cap, method) == (16, "sluiceMpmc") else 0.5
            targets.at_most(f"hand-off, virtual, cap {cap}: {label} / ABQ", ratio(s, abq), limit)
    limit = r.score("SpinningLimitBenchmark.jctoolsSpscSpinning", capacity=1024)
    blocking = [r.score("HandOffBenchmark." + m, capacity=1024, threads="platform") for _, m in impls]
    blocking = [b for b in blocking if b is not None]
    if limit is not None and blocking and limit > min(blocking):
        # Two spinning threads only show the limit when each has a core of its own; on busy cores they are
        # descheduled while spinning and lose to queues that park. Such a figure is no limit at all.
        out.append(f"Note: the spinning limit ({fmt(limit)} ns) is slower than a blocking queue on platform threads "
                   f"({fmt(min(blocking))} ns): the cores were busy, so the limit target below is not judged.")
        limit = None
        unjudged = "not judged: busy cores"
    else:
        unjudged = None
    for label, method in impls[:2]:
        s = r.score("HandOffBenchmark." + method, capacity=1024, threads="virtual")
        targets.at_most(f"hand-off, virtual, cap 1024: {label} / spinning limit", ratio(s, limit), 4.0, unjudged)


def many_to_many(r, out, targets):
    impls = [("Sluice", "sluice"), ("Sluice ref", "sluiceReference"), ("ABQ", "arrayBlockingQueue"),
             ("LBQ", "linkedBlockingQueue"), ("jox", "jox")]
    row = [cell(r.get("ManyToManyBenchmark." + m)) for _, m in impls]
    abq = r.score("ManyToManyBenchmark.arrayBlockingQueue")
    sluice = r.score("ManyToManyBenchmark.sluice")
    row.append(fmt(ratio(sluice, abq), 2))
    print_table(out, "2. Many-to-many, 4 producers / 4 consumers, virtual threads, capacity 1024: ns per item",
                [n for n, _ in impls] + ["Sluice / ABQ"], [row])
    targets.at_most("many-to-many: Sluice / ABQ", ratio(sluice, abq), 1.0)
    targets.at_most("many-to-many: Sluice / jox", ratio(sluice, r.score("ManyToManyBenchmark.jox")), 1.0)
    p = r.probe("ManyToManyBenchmark.sluice")
    lost = r.lost_races("ManyToManyBenchmark.sluice")
    print_table(out, "2b. Many-to-many, the channel probe's pass (-Dsluice.channel.probe=true): per item, thread "
                "switches (parks, yields of waiting threads, yields after a lost race) and compare-and-sets lost to "
                "a thread of the same side",
                ["switches per item", "of which parks", "lost races per item"],
                [[fmt(None if p is None else p[0], 4), fmt(None if p is None else p[1], 4), fmt(lost, 4)]])


def chain(r, out, targets):
    impls = [("Sluice SPSC", "sluiceSpsc"), ("Sluice MPMC", "sluiceMpmc"), ("Sluice pipeline", "sluicePipeline"),
             ("ABQ", "arrayBlockingQueue"), ("jox", "jox")]
    row = [cell(r.get("ChainBenchmark." + m)) for _, m in impls]
    print_table(out, "3. Chain of 100 virtual-thread stages, links of 16: ns per item per hop",
                [n for n, _ in impls], [row])
    abq = r.score("ChainBenchmark.arrayBlockingQueue")
    for label, m in impls[:3]:
        targets.at_most(f"chain: {label} / ABQ", ratio(r.score("ChainBenchmark." + m), abq), 0.5)
    rows = []
    for label, m in impls[:3]:
        p = r.probe("ChainBenchmark." + m)
        rows.append([label, fmt(None if p is None else p[0], 3), fmt(None if p is None else p[1], 3)])
        targets.at_most(f"chain: {label}, switches per item-hop (floor: 2 / capacity 16)",
                        None if p is None else p[0], 2 / 16)
    print_table(out, "3b. Chain, the channel probe's pass (-Dsluice.channel.probe=true): thread switches per item "
                "and hop (a switch: a waiting stage parks, or yields its carrier)",
                ["channel", "switches per item-hop", "of which parks"], rows, labels=1)


def three_stage(r, out, targets):
    impls = [("Sluice pipeline", "sluicePipeline"), ("Reactor publishOn", "reactorPublishOn"),
             ("ABQ by hand", "arrayBlockingQueueByHand"), ("jox by hand", "joxByHand"),
             ("Sluice channels by hand", "sluiceChannelsByHand"), ("sequential Stream", "sequentialStream")]
    row = [cell(r.get("ThreeStageBenchmark." + m)) for _, m in impls]
    print_table(out, "4. Three stages, source -> map(x + 1) -> sum, 1,000,000 items: ns per item",
                [n for n, _ in impls], [row])
    reactor = r.score("ThreeStageBenchmark.reactorPublishOn")
    targets.at_most("three-stage: Sluice pipeline / Reactor",
                    ratio(r.score("ThreeStageBenchmark.sluicePipeline"), reactor), 0.5)


def efficiency(run, n):
    """(ideal ns per item from the measured call time, ideal / measured), or (None, None)."""
    if run is None:
        return None, None
    sec = run.get("secondaryMetrics") or {}
    try:
        call_nanos = sec["callNanos"]["score"]
        calls = sec["calls"]["score"]
    except KeyError:
        return None, None
    if not calls:
        return None, None
    ideal = call_nanos / calls / n
    return ideal, ideal / run["primaryMetric"]["score"]


def map_concurrent(r, out, targets):
    impls = [("Sluice ordered", "sluiceOrdered"), ("Sluice unordered", "sluiceUnordered"),
             ("Reactor flatMap", "reactorFlatMap"), ("Reactor flatMapSequential", "reactorFlatMapSequential")]
    rows = []
    for n in (16, 256):
        row = [n]
        calls = []
        for _, m in impls:
            run = r.get("MapConcurrentBenchmark." + m, concurrency=n)
            ideal, eff = efficiency(run, n)
            if ideal is not None:
                calls.append(ideal * n / 1000)
            row.append("-" if run is None else f"{cell(run)} ({fmt(eff, 2)} of ideal)")
        row.append(fmt(sum(calls) / len(calls), 0) if calls else "-")
        rows.append(row)
        for label, m in impls[:2]:
            _, eff = efficiency(r.get("MapConcurrentBenchmark." + m, concurrency=n), n)
            targets.at_least(f"mapConcurrent({n}): {label}, share of ideal", eff, 0.9)
    print_table(out, "5. mapConcurrent around a blocking 1 ms call, 8,192 items: ns per item (share of the ideal,"
                " n calls per measured call time)", ["n"] + [n for n, _ in impls] + ["mean call, µs"], rows, labels=1)


def grpc_source(r, out, targets):
    impls = [("Sluice source", "sluiceSource"), ("async stub", "asyncStub"), ("blocking stub", "blockingStub")]
    rows = []
    for transport, label in (("inProcess", "in-process"), ("netty", "Netty, loopback")):
        row = [label]
        for _, m in impls:
            run = r.get("GrpcSourceBenchmark." + m, transport=transport)
            score = None if run is None else run["primaryMetric"]["score"]
            row.append("-" if run is None else f"{cell(run)} ({fmt(ratio(1000.0, score), 2)} M/s)")
        sluice = r.score("GrpcSourceBenchmark.sluiceSource", transport=transport)
        async_stub = r.score("GrpcSourceBenchmark.asyncStub", transport=transport)
        # Throughput is the inverse of ns per item: the source's share of the stub's throughput is stub ns / source ns.
        share = ratio(async_stub, sluice)
        row.append(fmt(share, 2))
        rows.append(row)
        targets.at_least(f"gRPC stream, {label}: Sluice source / async stub, throughput", share, 0.9)
    print_table(out, "6. gRPC server stream, 1,000,000 small items (the blocking stub reads 100,000): ns per item"
                " (million items per second)",
                ["transport"] + [n for n, _ in impls] + ["Sluice / async stub, throughput"], rows, labels=1)


def audit_writer(r, out, targets):
    impls = [("async writer, 1 thread", "asyncWriter", {"writeThreads": 1}),
             ("async writer, 2 threads", "asyncWriter", {"writeThreads": 2}),
             ("hand-written batches", "handWrittenBatches", {}),
             ("server's ceiling", "serverCeiling", {}), ("one insert per event", "oneInsertPerEvent", {})]
    rows = []
    for store, label in (("postgresql", "PostgreSQL"), ("sqlite", "SQLite")):
        row = [label] + [cell(r.get("AuditWriterBenchmark." + m, store=store, **p)) for _, m, p in impls]
        one = r.score("AuditWriterBenchmark.asyncWriter", store=store, writeThreads=1)
        two = r.score("AuditWriterBenchmark.asyncWriter", store=store, writeThreads=2)
        ceiling = r.score("AuditWriterBenchmark.serverCeiling", store=store)
        share_one, share_two = ratio(one, ceiling), ratio(two, ceiling)
        by_hand = ratio(one, r.score("AuditWriterBenchmark.handWrittenBatches", store=store))
        speedup = ratio(two, r.score("AuditWriterBenchmark.oneInsertPerEvent", store=store))
        row += [fmt(share_one, 2), fmt(share_two, 2), fmt(by_hand, 2), fmt(speedup, 1)]
        rows.append(row)
        if store == "postgresql":
            targets.informative("audit, PostgreSQL: writer (1 thread) / hand-written batches of the same statements,"
                                " events per second", by_hand, "informative: what the writer costs over its statements")
            targets.informative("audit, PostgreSQL: writer with 1 thread (the default) / server's own ceiling, events"
                                " per second", share_one, "informative: one connection; the target is set for two")
            targets.at_least("audit, PostgreSQL: writer with writeThreads(2) / server's own ceiling (INSERT ..."
                             " SELECT), events per second", share_two, 0.8)
            targets.informative("audit, PostgreSQL: writer (2 threads) / one insert per event, events per second",
                                speedup, "informative: follows the disk's commit latency")
    print_table(out, "7. Audit events into a store: EVENTS PER SECOND (higher is better; ± 99.9% CI); the server's "
                "ceiling is the same rows moved by one INSERT ... SELECT inside the store (SQLite: the engine's)",
                ["store"] + [n for n, _, _ in impls]
                + ["1 thread / ceiling", "2 threads / ceiling", "1 thread / by hand", "2 threads / one insert"], rows,
                labels=1)


def acknowledgements(r, out, targets):
    impls = [("untracked", "untracked"), ("one counting ack", "trackedCounting"),
             ("position tracker", "trackedPositions")]
    untracked = r.score("AcknowledgementBenchmark.untracked")
    row = [cell(r.get("AcknowledgementBenchmark." + m)) for _, m in impls]
    row += [fmt(ratio(r.score("AcknowledgementBenchmark." + m), untracked), 2) for _, m in impls[1:]]
    print_table(out, "8. Acknowledgements: the three-stage pipeline, 1,000,000 items emitted one by one: ns per item",
                [n for n, _ in impls] + ["counting / untracked", "tracker / untracked"], [row])


def keyed_map(r, out, targets):
    rows = []
    for n in (16, 256):
        by_key = r.score("KeyedMapBenchmark.sluiceByKey", concurrency=n)
        unordered = r.score("KeyedMapBenchmark.sluiceUnordered", concurrency=n)
        # Throughput share: ns per item of the unordered map over ns per item of the keyed one.
        share = ratio(unordered, by_key)
        rows.append([n, cell(r.get("KeyedMapBenchmark.sluiceByKey", concurrency=n)),
                     cell(r.get("KeyedMapBenchmark.sluiceUnordered", concurrency=n)), fmt(share, 2)])
        targets.at_least(f"mapConcurrentByKey({n}), 4,096 keys: throughput / mapConcurrentUnordered", share, 0.9)
    print_table(out, "9. Ordered per key: mapConcurrentByKey against mapConcurrentUnordered, 4,096 keys: ns per item",
                ["n", "by key", "unordered", "by key / unordered, throughput"], rows, labels=1)


def context_propagation(r, out, targets):
    on = r.get("ContextPropagationBenchmark.threeStageRun", propagate="true")
    off = r.get("ContextPropagationBenchmark.threeStageRun", propagate="false")
    son = None if on is None else on["primaryMetric"]["score"]
    soff = None if off is None else off["primaryMetric"]["score"]
    extra = None if son is None or soff is None else son - soff
    print_table(out, "10. Context propagation: one run of the three-stage pipeline, 1,000 items, caller's MDC of two"
                " keys: µs per run", ["propagated", "not propagated", "difference, µs per run", "on / off"],
                [[cell(on), cell(off), fmt(extra, 1), fmt(ratio(son, soff), 2)]])


def kafka_source(r, out, targets):
    sluice = r.score("KafkaSourceBenchmark.sluiceSource")
    plain = r.score("KafkaSourceBenchmark.plainConsumer")
    share = ratio(plain, sluice)
    print_table(out, "11. Kafka: records from a local broker into a counting sink, acknowledgements on: ns per record",
                ["KafkaSource -> sink", "plain KafkaConsumer poll loop", "Sluice / plain, throughput"],
                [[cell(r.get("KafkaSourceBenchmark.sluiceSource")), cell(r.get("KafkaSourceBenchmark.plainConsumer")),
                  fmt(share, 2)]])
    targets.at_least("Kafka: KafkaSource / plain consumer loop, throughput", share, 0.9)


def kafka_job(r, out, targets):
    sluice = r.get("KafkaJobBenchmark.sluiceJob")
    plain = r.get("KafkaJobBenchmark.plainLoop")
    share = ratio(r.score("KafkaJobBenchmark.plainLoop"), r.score("KafkaJobBenchmark.sluiceJob"))
    print_table(out, "11b. Kafka job against a plain consumer loop: the demo job's shape (parse, 2 ms enrichment 8 at a"
                " time, upserts of 100 into PostgreSQL, commits), 16,000 records of 5,000 users, a new group each: ns per record",
                ["Sluice job", "plain consumer loop", "Sluice / plain, throughput"],
                [[cell(sluice), cell(plain), fmt(share, 2)]])
    targets.at_least("Kafka job: Sluice job / plain consumer loop, throughput", share, 0.9)


def latency(r, out, targets):
    """The targets read the yielding source (a source waiting on I/O gives its thread back); the spinning one, which
    keeps a carrier of two, is shown beside it."""
    turn = r.score("SchedulerBenchmark.pingPong")
    floor = None if turn is None else 2 * turn
    rows = []
    for pacer in ("yield", "spin"):
        for load in (10, 50, 90):
            row = [f"{load}%", pacer]
            for pipeline in ("sluice", "reactor"):
                e = r.latencies.get((pipeline, load, pacer))
                row += ["-"] * 3 if e is None else [fmt(e["p50"] / 1000, 1), fmt(e["p99"] / 1000, 1),
                                                    fmt(e["p999"] / 1000, 1)]
            s, x = r.latencies.get(("sluice", load, pacer)), r.latencies.get(("reactor", load, pacer))
            row.append("-" if s is None else f"{round(s['intervalNanos']):,}")
            rows.append(row)
            p99 = None if s is None or x is None else ratio(s["p99"], x["p99"])
            if pacer == "yield":
                targets.at_most(f"latency at {load}% load: Sluice p99 / Reactor p99", p99, 1.0)
            else:
                targets.informative(f"latency at {load}% load, spinning source: Sluice p99 / Reactor p99", p99,
                                    "informative: the source keeps one of the two carriers")
        s10 = r.latencies.get(("sluice", 10, pacer))
        p50 = None if s10 is None else ratio(s10["p50"], floor)
        if pacer == "yield":
            targets.at_most("latency at 10% load: Sluice p50 / floor (2 hops of the scheduler's hand-off)", p50, 2.0)
        else:
            targets.informative("latency at 10% load, spinning source: Sluice p50 / floor", p50,
                                "informative: the source keeps one of the two carriers")
    print_table(out, "12. Latency through the three-stage pipeline, paced at a share of Sluice's saturated throughput:"
                " µs from an item's due time to the sink, each figure the median of the forks' (pacer: how the source"
                " waits for an item's due time, yielding its thread or spinning on it; floor: 2 hand-offs of the"
                " scheduler = " + ("-" if floor is None else fmt(floor / 1000, 2)) + " µs)",
                ["load", "pacer", "Sluice p50", "Sluice p99", "Sluice p99.9", "Reactor p50", "Reactor p99",
                 "Reactor p99.9", "interval, ns"], rows, labels=2)


def cpu_per_item(run):
    """CPU ns of the whole process per item, from the secondary results cpuNanos and users, or None."""
    sec = (run or {}).get("secondaryMetrics") or {}
    try:
        return ratio(sec["cpuNanos"]["score"], sec["users"]["score"])
    except KeyError:
        return None


def end_to_end(r, out, targets):
    parts = [("stream: gRPC source -> counting sink", "stream"),
             ("enrich: mapConcurrent(64, 200 µs lookup) -> counting sink", "enrich"),
             ("insert: batches of 500 into SQLite, one thread, a plain loop", "insert")]
    rows = []
    scores = {}
    cpu = []
    for label, m in parts:
        run = r.get("EndToEndBenchmark." + m)
        scores[m] = r.score("EndToEndBenchmark." + m)
        cpu.append(cpu_per_item(run))
        rows.append([label, cell(run), fmt(ratio(1e9, scores[m]), 0), fmt(cpu[-1]), ""])
    job_run = r.get("EndToEndBenchmark.job")
    job = r.score("EndToEndBenchmark.job")
    # The slowest part takes the most ns per user. Throughput is the inverse of ns per user, so the job's share of the
    # slowest part's throughput is the part's ns per user over the job's. Judged only when every part ran.
    slowest = None if None in scores.values() else max(scores, key=scores.get)
    share = None if slowest is None else ratio(scores[slowest], job)
    rows.append(["job: source -> enrich -> batch(500, 100 ms) -> buffer(4) -> SQLite sink", cell(job_run),
                 fmt(ratio(1e9, job), 0), fmt(cpu_per_item(job_run)),
                 "-" if share is None else f"{fmt(share, 2)} (slowest part: {slowest})"])
    rows.append(["the parts' CPU added up", "", "", "-" if None in cpu else fmt(sum(cpu)), ""])
    print_table(out, "14. End to end: the demo's job against its parts, 20,000 users per invocation: ns per user"
                " (users per second; CPU ns per user, the whole process's, server included)",
                ["part", "ns per user", "users / s", "CPU ns per user", "job / slowest part, throughput"], rows,
                labels=1)
    targets.at_least("end to end, demo job: whole / slowest part, throughput", share, 0.8)


def flavours(r, out):
    rows = []
    for method, label in (("spsc", "SPSC"), ("mpmc", "MPMC")):
        for cap in (16, 1024):
            own, a, u = (r.get("QueueFlavourBenchmark." + method, capacity=cap, flavour=f)
                         for f in ("sluice", "atomic", "unsafe"))
            so, sa, su = (None if x is None else x["primaryMetric"]["score"] for x in (own, a, u))
            rows.append([label, cap, cell(own), cell(a), cell(u), fmt(ratio(so, sa), 2), fmt(ratio(so, su), 2)])
    print_table(out, "The rings inside the channel: Sluice's own (the default) against JCTools' atomic and Unsafe "
                "queues, hand-off on virtual threads, each flavour in JVMs of its own, one after the other: ns per item",
                ["channel", "capacity", "sluice", "atomic", "unsafe", "sluice / atomic", "sluice / unsafe"], rows,
                labels=2)


def hot_path(r, out):
    impls = [("Sluice SPSC", "sluiceSpsc"), ("Sluice MPMC", "sluiceMpmc"), ("ABQ", "arrayBlockingQueue"),
             ("jox", "jox")]
    if not any(r.get("ChannelHotPathBenchmark." + m) for _, m in impls):
        return
    print_table(out, "Uncontended send + receive on one thread (nobody waits): ns per round trip",
                [n for n, _ in impls], [[cell(r.get("ChannelHotPathBenchmark." + m)) for _, m in impls]])


def scheduler(r, out):
    cells = [r.get("SchedulerBenchmark.yields", threads=2), r.get("SchedulerBenchmark.yields", threads=100),
             r.get("SchedulerBenchmark.pingPong")]
    if not any(cells):
        return
    print_table(out, "The virtual-thread scheduler alone: ns per yield, ns per park-and-unpark turn",
                ["yield, 2 threads", "yield, 100 threads", "ping-pong turn"], [[cell(c) for c in cells]])


def allocation(r, out):
    rows = []
    for (name, params), run in sorted(r.by_key.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1]))):
        sec = run.get("secondaryMetrics") or {}
        norm = sec.get("gc.alloc.rate.norm")
        if norm is None:
            continue
        p = ", ".join(f"{k}={v}" for k, v in sorted(params))
        rows.append([name, p, fmt(norm["score"], 2), fmt(sec.get("gc.count", {}).get("score"), 0)])
    if rows:
        print_table(out, "-prof gc: bytes allocated per item (per round trip for the hot path, per event for the audit writer)",
                    ["benchmark", "params", "B / item", "GCs"], rows, labels=2)


def stability(r, out, targets):
    """The hand-off on virtual threads fork by fork: the channel's slowest fork and its spread against ABQ's."""
    impls = [("Sluice SPSC", "sluiceSpsc"), ("Sluice MPMC", "sluiceMpmc"), ("ABQ", "arrayBlockingQueue")]
    rows = []
    for cap in (16, 1024):
        abq = r.get("HandOffBenchmark.arrayBlockingQueue", capacity=cap, threads="virtual")
        abq_forks = fork_means(abq)
        abq_spread = max(abq_forks) / min(abq_forks) if len(abq_forks) > 1 else None
        for label, method in impls:
            run = r.get("HandOffBenchmark." + method, capacity=cap, threads="virtual")
            forks = fork_means(run)
            slowest = max(forks) if forks else None
            spread = max(forks) / min(forks) if len(forks) > 1 else None
            rows.append([label, cap, forks_cell(run), fmt(slowest), fmt(spread, 2)])
            if method == "arrayBlockingQueue":
                continue
            unjudged = "not judged: one fork" if run is not None and len(forks) < 2 else None
            targets.at_most(f"stability, cap {cap}: {label} slowest fork / ABQ mean",
                            ratio(slowest, None if abq is None else abq["primaryMetric"]["score"]), 1.0, unjudged)
            targets.at_most(f"stability, cap {cap}: {label} fork spread / ABQ's", ratio(spread, abq_spread), 1.5,
                            unjudged)
    print_table(out, "13. Stability: the hand-off on virtual threads fork by fork: each fork's mean, ns per item; "
                "spread = slowest / fastest fork", ["channel", "capacity", "forks", "slowest", "spread"], rows,
                labels=2)


def every_fork(r, out):
    rows = []
    for (name, params), run in sorted(r.by_key.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1]))):
        p = ", ".join(f"{k}={v}" for k, v in sorted(params))
        unit = run["primaryMetric"].get("scoreUnit", "")
        rows.append([name, p, unit, cell(run), forks_cell(run)])
    if rows:
        print_table(out, "Every benchmark fork by fork: the mean of each fork's measured iterations",
                    ["benchmark", "params", "unit", "score", "forks"], rows, labels=3)


MISSES_HEADING = "## Where Sluice misses its targets, by how much, and why"

PAGE_INTRO = """# Benchmark results

Sluice against the libraries you would pick instead, measured with the JMH benchmarks of the `benchmarks` module
(every benchmark checks what it moved, so a broken run cannot look fast). Figures are nanoseconds per item, lower is
better, unless a table says otherwise; each is the mean of the measured iterations ± its 99.9% confidence interval.
Ratios compare figures of the same run. *Sluice SPSC* is the single-producer, single-consumer link a pipeline puts
between two single-threaded stages; *Sluice MPMC* is `Channel.bounded`; *Sluice ref* is
`Channel.backedByBlockingQueue`, the reference implementation. `benchmarks/README.md` says what each benchmark does.

This page is written by the run it reports (`benchmarks/run ... --write-results`); earlier runs are in git history.
"""


def write_page(path, folder, tables, target_rows):
    env = []
    env_path = os.path.join(folder, "env.txt")
    if os.path.exists(env_path):
        with open(env_path) as f:
            env = [line.rstrip("\n") for line in f if line.strip()]
    command = next((line.removeprefix("command: ") for line in env if line.startswith("command: ")), None)
    misses = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        at = old.find(MISSES_HEADING)
        if at >= 0:
            misses = old[at:]
    if not misses:
        misses = MISSES_HEADING + "\n\n(to be written: for each missed target, by how much and why)\n"
    page = [PAGE_INTRO, "## The run", ""]
    if command:
        page += ["```", command, "```", ""]
    page += [f"- {line}" for line in env if not line.startswith("command: ")]
    page += ["", "## Tables"]
    for line in tables:
        if line and not line.startswith(("|", "(", "Note")):
            page += ["**" + line + "**", ""]  # a title, then the blank line a Markdown table needs before it
        else:
            page.append(line)
    page += ["", "## Targets", "", "Each ratio compares figures of this run; the rule is the target's."]
    page += target_rows
    page += ["", misses.rstrip("\n"), ""]
    with open(path, "w") as f:
        f.write("\n".join(page))


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = argv[1]
    markdown = argv[argv.index("--markdown") + 1] if "--markdown" in argv else None
    page = argv[argv.index("--page") + 1] if "--page" in argv else None
    r = Results()
    # The probe pass's figures are taken with the probe counting: only its CHANNEL_PROBE lines are read.
    files = sorted(p for p in glob.glob(os.path.join(folder, "*.json")) if not os.path.basename(p).startswith("probe"))
    if not files:
        print(f"no JMH results (*.json) in {folder}", file=sys.stderr)
        return 1
    broken = []
    for path in files:
        try:
            r.load(path)
        except (OSError, ValueError) as e:
            broken.append(f"{path}: {e}")
    try:
        r.load_latencies(folder)
        r.load_probes(folder)
    except (OSError, ValueError) as e:
        broken.append(f"latency or probe lines: {e}")
    out = []
    targets = Targets()
    hand_off(r, out, targets)
    many_to_many(r, out, targets)
    chain(r, out, targets)
    three_stage(r, out, targets)
    map_concurrent(r, out, targets)
    grpc_source(r, out, targets)
    audit_writer(r, out, targets)
    acknowledgements(r, out, targets)
    keyed_map(r, out, targets)
    context_propagation(r, out, targets)
    kafka_source(r, out, targets)
    kafka_job(r, out, targets)
    latency(r, out, targets)
    stability(r, out, targets)
    end_to_end(r, out, targets)
    flavours(r, out)
    hot_path(r, out)
    scheduler(r, out)
    allocation(r, out)
    every_fork(r, out)

    tables = list(out)
    out.append("")
    out.append("Targets, ratios from this run:")
    rows = []
    for label, value, rule, ok in targets.rows:
        verdict = ok if isinstance(ok, str) else "not run" if ok is None else ("met" if ok else "MISSED")
        rows.append([label, fmt(value, 2), rule, verdict])
    target_rows = []
    print_table(target_rows, "", ["target", "ratio", "rule", "verdict"], rows, labels=1)
    out += target_rows
    if broken:
        out.append("")
        out.append("Unreadable result files: " + "; ".join(broken))
    text = "\n".join(out)
    print(text)
    if markdown:
        with open(markdown, "w") as f:
            f.write(text + "\n")
    if page:
        write_page(page, folder, tables, target_rows)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
