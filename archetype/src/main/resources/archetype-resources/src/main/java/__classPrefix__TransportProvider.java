package ${package};

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import java.net.URI;
import java.util.EnumSet;
import java.util.Set;

/**
 * The {@code ${scheme}} transport's provider, found at run time by {@link java.util.ServiceLoader}: registered by
 * {@code provides} in {@code module-info.java} (module path) and by
 * {@code META-INF/services/dev.braid.spi.TransportProvider} (class path), as {@link TransportProvider} asks.
 *
 * <p>The public no-argument constructor never throws and does no I/O; a transport that cannot run here says so
 * through {@link #isAvailable()} and {@link #unavailabilityCause()}. Thread-safe.
 */
public final class ${classPrefix}TransportProvider implements TransportProvider {
  /** The provider id, which is also the URI scheme: {@code ${scheme}://host:port}. */
  static final String ID = "${scheme}";

  /** Used by {@link java.util.ServiceLoader}. */
  public ${classPrefix}TransportProvider() {}

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Set<String> schemes() {
    return Set.of(ID);
  }

  @Override
  public boolean isAvailable() {
    return unavailabilityCause() == null;
  }

  /**
   * Why this transport cannot run here (a native library that does not load, say), with what would fix it; null
   * when it can. Checked by {@code bin/braid transports} and by the kit's fixture before any rule runs.
   */
  @Override
  public Throwable unavailabilityCause() {
    return null;
  }

  /**
   * What the protocol can do (SPEC.md section 4). Declare a capability only once its rules pass; until then the kit
   * reports those rules as skipped, with the reason, never as passed:
   * <ul>
   *   <li>{@code STOP_SENDING}: closeRead tells the peer (rule H6); implement
   *       {@code ${classPrefix}MuxedStream.transmitStopSending} and call {@code receiveStopSending} on the peer.</li>
   *   <li>{@code RESET_CODES}: reset(code) carries its code to the peer (C2, C3, C6, the code checks of M1).</li>
   *   <li>{@code OPENING_STATE}: a stream passes through OPENING before it is usable (O2).</li>
   * </ul>
   */
  @Override
  public Set<Capability> capabilities() {
    return EnumSet.noneOf(Capability.class);
  }

  /**
   * Where the kit's fixture listens (port 0: a free port); its dialer dials the listener's {@code address()}. A
   * loopback address lets the kit's {@code FaultProxy} sit on the path (the silent kill of N2, N5, F2, and F6).
   */
  @Override
  public URI testListenAddress() {
    return URI.create(ID + "://127.0.0.1:0");
  }

  @Override
  public Transport create(TransportOptions options) {
    return new ${classPrefix}Transport(this, options);
  }
}
