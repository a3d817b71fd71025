package dev.sluice.pipeline.audit.internal;

import java.nio.file.Path;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The JFR event {@value #NAME}: audit events that did not go to the store as they came, one per batch so handled:
 * spilled to the spill file, dropped, or set aside in the dead-letter file. Sent where they are counted, so its counts
 * add up to the writer's {@code spilled}, {@code dropped} and {@code deadLettered}. Its fields are filled only if a
 * recording takes it.
 */
@Name(AuditSpillEvent.NAME)
@Label("Audit Spill")
@Category({"Sluice", "Audit"})
@Description("Audit events that did not go to the store as they came: spilled to the spill file (replayed later),"
        + " dropped (logged with their JSON when their data would be lost), or set aside in the dead-letter file")
@StackTrace(false)
final class AuditSpillEvent extends Event {

    static final String NAME = "dev.sluice.AuditSpill";

    static final String SPILLED = "spilled";
    static final String DROPPED = "dropped";
    static final String DEAD_LETTERED = "dead-lettered";

    @Label("Action")
    @Description("spilled, dropped or dead-lettered")
    String action;

    @Label("Events")
    @Description("How many audit events")
    int count;

    @Label("Reason")
    @Description("Why they did not go to the store")
    String reason;

    @Label("SQLState")
    @Description("The SQLState the store refused a dead-lettered event with, if it gave one")
    String sqlState;

    @Label("File")
    @Description("The spill file or the dead-letter file they went to; none for dropped events")
    String file;

    /** Commits the event if a recording takes it; does nothing otherwise. */
    static void report(String action, int count, String reason, String sqlState, Path file) {
        AuditSpillEvent event = new AuditSpillEvent();
        if (!event.shouldCommit()) {
            return;
        }
        event.action = action;
        event.count = count;
        event.reason = reason;
        event.sqlState = sqlState;
        event.file = file == null ? null : file.toString();
        event.commit();
    }
}
