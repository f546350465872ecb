package dev.braid.conformance;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What a transport author supplies to the kit: a way to make connected pairs, and teardown.
 *
 * <p>Most transports need nothing but {@link #of(TransportProvider)}, which listens on the provider's
 * {@link TransportProvider#testListenAddress()} and dials the listener's {@link Listener#address()}.
 * Not thread-safe: the kit uses one fixture per test.
 */
public interface TransportFixture extends AutoCloseable {

  /** A fresh, connected pair. Each call may open a new connection on the same transports. */
  ConnectionPair connect() throws Exception;

  /** What the transport under test declares it can do. */
  Set<Capability> capabilities();

  /** The transport's id, for reports. */
  String transportId();

  /**
   * Name prefixes of long-lived threads the transport keeps on purpose after {@link #close()} (shared
   * pools that idle out); the leak check ignores them. Default: none.
   */
  default Set<String> sharedThreadPrefixes() {
    return Set.of();
  }

  /**
   * A fixture like this one whose connections {@link #kill(Connection)} can kill without a word, or {@code null}
   * when it cannot: the rules that kill (N2, N5, F2) are then skipped with that reason. A fixture made with
   * {@link #of(TransportProvider, TransportOptions, FaultProxy.Kind)} can: the kit routes each of its connections
   * through a {@link FaultProxy} of that kind and black-holes it. Default: {@code null}.
   */
  default TransportFixture killable() {
    return null;
  }

  /**
   * Kills {@code c}'s end without a word, as a crash or a pulled cable would: {@code c} ends at once (its streams
   * FAILED), and nothing more reaches its peer (no FIN, no go-away, no CONNECTION_CLOSE, no SCTP ABORT, no
   * signaling message), so the peer learns of it only through its own timers (keep-alive, idle timeout, ICE
   * consent) and ends with {@link dev.braid.ConnectionTimedOutException}; the kit checks that it does. Called only
   * on pairs of a {@link #killable()} fixture. Default: unsupported.
   */
  default void kill(Connection c) {
    throw new UnsupportedOperationException("fixture for '" + transportId() + "' cannot kill a connection silently "
        + "(killable() returns null)");
  }

  /**
   * A new fixture like this one but with {@code options} (used by the limit rules), or {@code null} when
   * the fixture cannot be rebuilt: those rules are then skipped with that reason.
   */
  default TransportFixture withOptions(TransportOptions options) {
    return null;
  }

  /**
   * A new fixture like this one whose dialing side runs with {@code dialer} and listening side with
   * {@code listener} (rule N8 gives the two ends different stream limits), or {@code null} when the fixture
   * cannot do that: those rules are then skipped with that reason.
   */
  default TransportFixture withOptions(TransportOptions dialer, TransportOptions listener) {
    return null;
  }

  /**
   * A new fixture like this one whose dialer reaches the listener at {@code route.apply(listener address)}
   * (a fault proxy, say), or {@code null} when the fixture cannot do that: the rules that need it are then
   * skipped with that reason.
   */
  default TransportFixture withDialRoute(java.util.function.UnaryOperator<URI> route) {
    return null;
  }

  /** Closes every connection, listener and transport this fixture made; frees every thread. */
  @Override
  void close() throws Exception;

  /** A fixture over one provider with default options. */
  static TransportFixture of(TransportProvider provider) {
    return of(provider, TransportOptions.DEFAULTS);
  }

  /** A fixture over one provider: two transport instances (dialing side, listening side) on its test address. */
  static TransportFixture of(TransportProvider provider, TransportOptions options) {
    return new ProviderFixture(provider, options);
  }

  /**
   * A fixture over one provider whose traffic runs over {@code path} (TCP or UDP) on loopback: its
   * {@link #killable()} variant routes each connection through a {@link FaultProxy} and kills it silently by
   * black-holing that proxy.
   */
  static TransportFixture of(TransportProvider provider, TransportOptions options, FaultProxy.Kind path) {
    return new ProviderFixture(provider, options, options, java.util.function.UnaryOperator.identity(), path, false);
  }

  /**
   * A cross-implementation fixture: two providers of one scheme (say a Netty-based and a kwik-based QUIC), the
   * listening side made by {@code listener} on its test address and the dialing side by {@code dialer}. Every rule
   * then checks that the two implementations keep the promises <em>to each other</em>; run it both ways. Its
   * capabilities are those both declare; its id is {@code dialer→listener}.
   */
  static TransportFixture across(TransportProvider dialer, TransportProvider listener, TransportOptions options) {
    return new ProviderFixture(dialer, listener, options, options, java.util.function.UnaryOperator.identity(), null,
        false);
  }

  /** {@link #across(TransportProvider, TransportProvider, TransportOptions)} with a {@link #killable()} variant. */
  static TransportFixture across(TransportProvider dialer, TransportProvider listener, TransportOptions options,
      FaultProxy.Kind path) {
    return new ProviderFixture(dialer, listener, options, options, java.util.function.UnaryOperator.identity(), path,
        false);
  }

  /**
   * The default fixture: a listener on the provider's test address, dialed by a second transport instance (of the
   * same provider, or of another implementation of its scheme: {@link #across}).
   */
  final class ProviderFixture implements TransportFixture {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private final TransportProvider provider; // the listening side's
    private final TransportProvider dialProvider;
    private final TransportOptions options;
    private final TransportOptions dialerOptions;
    private final java.util.function.UnaryOperator<URI> route;
    private final FaultProxy.Kind path;
    private final boolean viaProxies;
    private final java.util.Map<Connection, FaultProxy> proxyOf = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<FaultProxy> proxies = new ArrayList<>();
    private Transport dialSide;
    private Transport listenSide;
    private Listener listener;
    private final List<Connection> connections = new ArrayList<>();

    ProviderFixture(TransportProvider provider, TransportOptions options) {
      this(provider, options, java.util.function.UnaryOperator.identity());
    }

    ProviderFixture(TransportProvider provider, TransportOptions options, java.util.function.UnaryOperator<URI> route) {
      this(provider, options, options, route, null, false);
    }

    ProviderFixture(TransportProvider provider, TransportOptions dialerOptions, TransportOptions listenerOptions,
        java.util.function.UnaryOperator<URI> route, FaultProxy.Kind path, boolean viaProxies) {
      this(provider, provider, dialerOptions, listenerOptions, route, path, viaProxies);
    }

    ProviderFixture(TransportProvider dialProvider, TransportProvider provider, TransportOptions dialerOptions,
        TransportOptions listenerOptions, java.util.function.UnaryOperator<URI> route, FaultProxy.Kind path,
        boolean viaProxies) {
      this.provider = provider;
      this.dialProvider = dialProvider;
      this.options = listenerOptions;
      this.dialerOptions = dialerOptions;
      this.route = route;
      this.path = path;
      this.viaProxies = viaProxies;
    }

    @Override
    public ConnectionPair connect() throws Exception {
      if (listener == null) {
        for (TransportProvider p : List.of(provider, dialProvider)) {
          if (!p.isAvailable()) {
            throw new IllegalStateException("transport '" + p.id() + "' is unavailable: " + p.unavailabilityCause(),
                p.unavailabilityCause());
          }
        }
        listenSide = provider.create(options);
        dialSide = dialProvider.create(dialerOptions);
        URI address = provider.testListenAddress();
        listener = listenSide.listen(address);
      }
      CompletableFuture<Connection> accepted = listener.accept();
      URI target = route.apply(listener.address());
      FaultProxy proxy = null;
      if (viaProxies) {
        java.net.InetSocketAddress to = new java.net.InetSocketAddress("127.0.0.1", target.getPort());
        proxy = path == FaultProxy.Kind.UDP ? FaultProxy.udp(to, 0, 0, 1) : FaultProxy.tcp(to);
        proxies.add(proxy);
        target = proxy.rewrite(target);
      }
      Connection d = dialSide.dial(target).get(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      connections.add(d);
      Connection l = accepted.get(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      connections.add(l);
      if (proxy != null) {
        proxyOf.put(d, proxy);
        proxyOf.put(l, proxy);
      }
      return new ConnectionPair(d, l);
    }

    /** The provider's capabilities; across two providers, those both declare. */
    @Override
    public Set<Capability> capabilities() {
      if (dialProvider == provider) {
        return provider.capabilities();
      }
      Set<Capability> both = java.util.EnumSet.noneOf(Capability.class);
      both.addAll(provider.capabilities());
      both.retainAll(dialProvider.capabilities());
      return java.util.Collections.unmodifiableSet(both);
    }

    /** Rebuilt with other limits; this fixture's transport-specific properties (tls=true, say) are kept. */
    @Override
    public TransportFixture withOptions(TransportOptions newOptions) {
      TransportOptions merged = keepingProperties(newOptions);
      return new ProviderFixture(dialProvider, provider, merged, merged, route, path, viaProxies);
    }

    @Override
    public TransportFixture withOptions(TransportOptions dialer, TransportOptions listener) {
      return new ProviderFixture(dialProvider, provider, keepingProperties(dialer), keepingProperties(listener), route,
          path, viaProxies);
    }

    /** {@code newOptions} plus every property of this fixture's options that it does not set itself. */
    private TransportOptions keepingProperties(TransportOptions newOptions) {
      TransportOptions.Builder b = newOptions.toBuilder();
      options.properties().forEach((k, v) -> {
        if (newOptions.property(k).isEmpty()) {
          b.property(k, v);
        }
      });
      return b.build();
    }

    @Override
    public TransportFixture withDialRoute(java.util.function.UnaryOperator<URI> newRoute) {
      return new ProviderFixture(dialProvider, provider, dialerOptions, options, newRoute, path, false);
    }

    @Override
    public TransportFixture killable() {
      return path == null ? null
          : new ProviderFixture(dialProvider, provider, dialerOptions, options, route, path, true);
    }

    /** Black-holes the connection's proxy, then aborts {@code c}: its goodbye, if any, is swallowed. */
    @Override
    public void kill(Connection c) {
      FaultProxy proxy = proxyOf.get(c);
      if (proxy == null) {
        throw new UnsupportedOperationException("kill() needs a connection of this fixture's killable() variant");
      }
      proxy.blackhole();
      c.abort(new java.io.IOException("killed without a word by the conformance kit"));
    }

    @Override
    public String transportId() {
      return dialProvider == provider ? provider.id() : dialProvider.id() + "→" + provider.id();
    }

    @Override
    public void close() {
      for (Connection c : connections) {
        c.close();
      }
      if (listener != null) {
        listener.close();
      }
      if (dialSide != null) {
        dialSide.close();
      }
      if (listenSide != null) {
        listenSide.close();
      }
      for (FaultProxy p : proxies) {
        p.close();
      }
    }
  }
}
