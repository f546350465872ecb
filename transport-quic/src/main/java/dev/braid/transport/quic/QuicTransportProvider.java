package dev.braid.transport.quic;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import dev.braid.transport.quic.internal.QuicTransport;
import java.io.IOException;
import java.net.URI;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The QUIC transport provider, id and scheme {@code quic}: one bidirectional QUIC stream (kwik 0.10.8) per
 * {@link dev.braid.MuxedStream}, with native FIN, RESET_STREAM and STOP_SENDING.
 *
 * <p>Addresses: {@code quic://HOST:PORT?certhash=SHA256HEX}. A listener makes a self-signed EC P-256
 * certificate at run time (or uses the keystore of the shared {@code tls.keyStore} options,
 * {@link dev.braid.TransportOptions#TLS_KEY_STORE}) and puts its hash in
 * {@link dev.braid.Listener#address()}; a dialer accepts exactly that certificate. Without {@code certhash} the
 * dialer uses the JDK's default trust store. Certificate checks are never switched off.
 *
 * <p>Options: {@code maxStreams} → kwik's peer-initiated bidirectional stream limit (MAX_STREAMS);
 * {@code receiveWindow} → per-stream receive buffer (initial MAX_STREAM_DATA); {@code idleTimeout} → QUIC
 * max_idle_timeout; {@code connectTimeout} → handshake timeout and the bound on waiting for stream credit.
 * Properties: {@link QuicOptions} ({@code quic.alpn}, default {@code braid}; {@code quic.connectionWindow}, MAX_DATA,
 * default the larger of 16 MiB and four receive windows), {@code tls.keyStore}, {@code tls.keyStorePassword},
 * {@code tls.keyAlias}. A bad value fails {@link #create} with {@link IllegalArgumentException} naming the option.
 *
 * <p><b>Thread safety.</b> Thread-safe and stateless; the constructor never throws.
 */
public final class QuicTransportProvider implements TransportProvider {
  private static final String[] KWIK_PACKAGES = {"tech.kwik.core.frame", "tech.kwik.core.packet",
      "tech.kwik.core.common", "tech.kwik.core.impl", "tech.kwik.core.stream"};

  /** Creates the provider; does no I/O. */
  public QuicTransportProvider() {}

  @Override
  public String id() {
    return QuicTransport.ID;
  }

  @Override
  public Set<String> schemes() {
    return Set.of(QuicTransport.ID);
  }

  @Override
  public boolean isAvailable() {
    return unavailabilityCause() == null;
  }

  @Override
  public Throwable unavailabilityCause() {
    Class<?> kwikClass;
    try {
      kwikClass = Class.forName("tech.kwik.core.QuicClientConnection", false, QuicTransportProvider.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      return new IllegalStateException("kwik (tech.kwik:kwik:0.10.8) is not on the class or module path", e);
    }
    Module kwik = kwikClass.getModule();
    Module self = QuicTransportProvider.class.getModule();
    if (kwik.isNamed()) {
      for (String pkg : KWIK_PACKAGES) {
        if (!kwik.isExported(pkg, self)) {
          return new IllegalStateException("kwik does not export " + pkg + " to " + self.getName()
              + "; run with --add-exports tech.kwik.core/" + pkg + "=" + self.getName()
              + " (Braid reads QUIC frames through kwik's logger hook)");
        }
      }
    }
    return null;
  }

  @Override
  public Set<Capability> capabilities() {
    return QuicTransport.CAPABILITIES;
  }

  @Override
  public URI testListenAddress() {
    return URI.create("quic://127.0.0.1:0");
  }

  @Override
  public Transport create(TransportOptions options) throws IOException {
    Throwable why = unavailabilityCause();
    if (why != null) {
      throw new IOException("the QUIC transport cannot run here: " + why.getMessage(), why);
    }
    return new QuicTransport(options);
  }

  /**
   * kwik and its TLS library agent15, as they report themselves ({@code KwikVersion}, agent15's {@code Version}: their
   * jars carry no Maven metadata); "missing" when kwik is not on the path (then the provider is unavailable too).
   */
  @Override
  public Map<String, String> libraryVersions() {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("kwik", selfReported("tech.kwik.core.KwikVersion"));
    v.put("agent15", selfReported("tech.kwik.agent15.Version"));
    return v;
  }

  private static String selfReported(String versionClass) {
    try {
      Class<?> c = Class.forName(versionClass, true, QuicTransportProvider.class.getClassLoader());
      return String.valueOf(c.getMethod("getVersion").invoke(null));
    } catch (ClassNotFoundException | LinkageError e) {
      return "missing (" + e + ")";
    } catch (ReflectiveOperationException | RuntimeException e) {
      return "unknown (" + versionClass + ".getVersion(): " + e + ")";
    }
  }
}
