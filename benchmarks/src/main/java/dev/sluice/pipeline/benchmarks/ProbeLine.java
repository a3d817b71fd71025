package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.internal.ChannelProbe;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The channel probe's counts over one fork (warm-up and measurement), for benchmarks run with
 * {@code -Dsluice.channel.probe=true}: at the fork's end it prints one line
 * {@code CHANNEL_PROBE {"benchmark":…,"params":…,"hops":…,"senderParks":…,"receiverParks":…,"senderWakes":…,"receiverWakes":…,"yields":…,"lostRaces":…,"parksPerHop":…,"yieldsPerHop":…}}
 * where hops is the item-hops moved (invocations × hops per invocation). Without the property it prints nothing.
 */
@State(Scope.Benchmark)
public class ProbeLine {

    private long hops;

    @Setup(Level.Trial)
    public void reset() {
        ChannelProbe.reset();
        hops = 0;
    }

    /** Counts one invocation's item-hops (called by the benchmark method). */
    void moved(long itemHops) {
        hops += itemHops;
    }

    @TearDown(Level.Trial)
    public void print(BenchmarkParams params) {
        if (!ChannelProbe.ENABLED) {
            return;
        }
        ChannelProbe.Counts c = ChannelProbe.counts();
        StringBuilder p = new StringBuilder();
        for (String key : params.getParamsKeys()) {
            p.append(p.isEmpty() ? "" : ",").append(key).append('=').append(params.getParam(key));
        }
        System.out.printf(
                "CHANNEL_PROBE {\"benchmark\":\"%s\",\"params\":\"%s\",\"hops\":%d,\"senderParks\":%d,"
                        + "\"receiverParks\":%d,\"senderWakes\":%d,\"receiverWakes\":%d,\"yields\":%d,\"lostRaces\":%d,"
                        + "\"parksPerHop\":%.5f,\"yieldsPerHop\":%.5f}%n",
                params.getBenchmark(),
                p,
                hops,
                c.senderParks(),
                c.receiverParks(),
                c.senderWakes(),
                c.receiverWakes(),
                c.yields(),
                c.lostRaces(),
                hops == 0 ? 0.0 : (double) c.parks() / hops,
                hops == 0 ? 0.0 : (double) c.yields() / hops);
    }
}
