package dev.braid.spi;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.IOException;
import java.net.URI;
import java.util.Set;

/**
 * A transport plugin, found at run time by {@link java.util.ServiceLoader}. Register it both ways:
 * {@code provides dev.braid.spi.TransportProvider with ...} in {@code module-info.java}, and a line in
 * {@code META-INF/services/dev.braid.spi.TransportProvider} for the class path.
 *
 * <p><b>Contract.</b> The public no-argument constructor never throws and does no I/O: a transport that
 * cannot run here (a missing native library, say) reports it through {@link #isAvailable()} and
 * {@link #unavailabilityCause()} instead. Implementations are thread-safe.
 *
 * <p><b>Threads.</b> A transport may complete futures and call the base classes' notifications on its own
 * threads, but every future it hands to an application must be a {@link BraidFuture} (use
 * {@link BraidFuture#relay}) so that application continuations never run on those threads; the base classes
 * ({@link AbstractConnection}, {@link AbstractMuxedStream}, {@link AcceptQueue}) already do so. Their class
 * comments say which thread calls each hook, which hooks may re-enter, and that no hook may block.
 */
public interface TransportProvider {

  /** A unique, stable, lower-case id, e.g. {@code "tcp"}. Two providers with one id are rejected. */
  String id();

  /** The URI schemes this provider dials and listens on, e.g. {@code tcp} and {@code tcp+tls}. */
  Set<String> schemes();

  /** Higher wins when two available providers claim one scheme (default 0). */
  default int priority() {
    return 0;
  }

  /** Whether this transport can run here. */
  boolean isAvailable();

  /**
   * Why this transport cannot run here, with what would fix it (e.g. the package to install);
   * {@code null} when {@link #isAvailable()}.
   */
  Throwable unavailabilityCause();

  /** What this transport can and cannot do. */
  Set<Capability> capabilities();

  /**
   * An address on this machine where a test may listen with this transport, with port 0: loopback for
   * most transports; for one that cannot use loopback (WebRTC), an address of this machine's own test
   * network namespace. Used by the conformance kit's generic fixture.
   *
   * @throws IOException if no such address exists here, saying what to set up
   */
  URI testListenAddress() throws IOException;

  /**
   * Creates a transport instance that owns its own threads and resources until closed.
   *
   * @throws IOException if the transport cannot start
   */
  Transport create(TransportOptions options) throws IOException;
}
