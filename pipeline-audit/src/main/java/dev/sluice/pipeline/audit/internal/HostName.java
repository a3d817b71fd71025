package dev.sluice.pipeline.audit.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** The name {@code AuditEnricher.hostName()} gives this machine; looked up once per call. */
public final class HostName {

    private HostName() {}

    /** The local host's name, or the environment's, or {@code "unknown"}. May block on a DNS lookup. */
    public static String lookUp() {
        try {
            String name = InetAddress.getLocalHost().getHostName();
            if (name != null && !name.isBlank()) {
                return name;
            }
        } catch (UnknownHostException | SecurityException e) {
            // the environment's name below
        }
        for (String variable : new String[] {"HOSTNAME", "COMPUTERNAME"}) {
            String name = System.getenv(variable);
            if (name != null && !name.isBlank()) {
                return name;
            }
        }
        return "unknown";
    }
}
