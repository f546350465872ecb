package dev.braid;

import dev.braid.spi.TransportProvider;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The entry point for applications: dial and listen by URI, and the scheme picks the transport.
 *
 * <pre>{@code
 * try (Braid braid = Braid.create()) {
 *   Connection c = braid.dial(URI.create("tcp://127.0.0.1:4001")).get();
 *   MuxedStream s = c.openStream().get();
 *   ...
 * }
 * }</pre>
 *
 * <p>A {@code Braid} creates each transport the first time one of its schemes is used and closes them all
 * when it is closed. <b>Thread safety.</b> This class is thread-safe.
 */
public final class Braid implements AutoCloseable {
  private final TransportRegistry registry;
  private final TransportOptions options;
  private final Map<String, Transport> transports = new LinkedHashMap<>(); // guarded by this
  private boolean closed; // guarded by this

  private Braid(TransportRegistry registry, TransportOptions options) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.options = Objects.requireNonNull(options, "options");
  }

  /** A Braid over every transport {@link TransportRegistry#load()} finds, with default options. */
  public static Braid create() {
    return new Braid(TransportRegistry.load(), TransportOptions.DEFAULTS);
  }

  /** A Braid over the given registry and options. */
  public static Braid create(TransportRegistry registry, TransportOptions options) {
    return new Braid(registry, options);
  }

  /** The registry this Braid uses. */
  public TransportRegistry registry() {
    return registry;
  }

  /**
   * Dials {@code address} with the transport its scheme selects. Fails with
   * {@link TransportUnavailableException} for an unknown scheme, listing the available ones.
   */
  public CompletableFuture<Connection> dial(URI address) {
    try {
      return dev.braid.spi.BraidFuture.relay(transportFor(address).dial(address));
    } catch (IOException e) {
      return dev.braid.spi.BraidFuture.failed(e);
    }
  }

  /** Listens on {@code address} with the transport its scheme selects. */
  public Listener listen(URI address) throws IOException {
    return transportFor(address).listen(address);
  }

  /** The transport for {@code address}'s scheme, created on first use. */
  public synchronized Transport transportFor(URI address) throws IOException {
    Objects.requireNonNull(address, "address");
    if (closed) {
      throw new IllegalStateException("this Braid is closed");
    }
    if (address.getScheme() == null) {
      throw new IllegalArgumentException("address has no scheme: " + address + " (e.g. tcp://127.0.0.1:4001)");
    }
    TransportProvider provider = registry.forScheme(address.getScheme());
    Transport t = transports.get(provider.id());
    if (t == null) {
      t = provider.create(options);
      transports.put(provider.id(), t);
    }
    return t;
  }

  /** Closes every transport this Braid created, with their connections and listeners. Idempotent. */
  @Override
  public void close() {
    List<Transport> toClose;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      toClose = new ArrayList<>(transports.values());
      transports.clear();
    }
    RuntimeException failure = null;
    for (Transport t : toClose) {
      try {
        t.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
