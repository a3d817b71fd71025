package dev.sluice.pipeline.grpc;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.StatusOr;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A name resolver for a fixed list of loopback ports, as a user would point a channel at a static list of servers:
 * target {@code sluice-static:///PORT,PORT,PORT} resolves to one address group per port on 127.0.0.1. Registered
 * once in the default registry (scheme {@value #SCHEME}, used by tests only).
 */
final class StaticAddresses extends NameResolverProvider {

    static final String SCHEME = "sluice-static";
    private static final StaticAddresses INSTANCE = new StaticAddresses();

    static {
        NameResolverRegistry.getDefaultRegistry().register(INSTANCE);
    }

    private StaticAddresses() {}

    /** The target for {@code ports} on loopback (registers the resolver on first use). */
    static String target(List<Integer> ports) {
        StringBuilder b = new StringBuilder(SCHEME).append(":///");
        for (int i = 0; i < ports.size(); i++) {
            b.append(i == 0 ? "" : ",").append(ports.get(i));
        }
        return b.toString();
    }

    @Override
    public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
        if (!SCHEME.equals(targetUri.getScheme())) {
            return null;
        }
        List<EquivalentAddressGroup> groups = new ArrayList<>();
        for (String port : targetUri.getPath().substring(1).split(",")) {
            SocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(port));
            groups.add(new EquivalentAddressGroup(address));
        }
        return new NameResolver() {
            @Override
            public String getServiceAuthority() {
                return "localhost";
            }

            @Override
            public void start(Listener2 listener) {
                listener.onResult(ResolutionResult.newBuilder()
                        .setAddressesOrError(StatusOr.fromValue(groups))
                        .build());
            }

            @Override
            public void refresh() {}

            @Override
            public void shutdown() {}
        };
    }

    @Override
    public String getDefaultScheme() {
        return SCHEME;
    }

    @Override
    protected boolean isAvailable() {
        return true;
    }

    /** Below DNS's 5, so that targets without a scheme keep resolving through DNS. */
    @Override
    protected int priority() {
        return 1;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
        return List.of(InetSocketAddress.class);
    }
}
