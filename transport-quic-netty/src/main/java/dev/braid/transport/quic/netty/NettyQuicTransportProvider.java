package dev.braid.transport.quic.netty;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import dev.braid.transport.quic.netty.internal.NativeSupport;
import dev.braid.transport.quic.netty.internal.NettyQuicTransport;
import java.io.IOException;
import java.net.URI;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The QUIC transport on Netty's QUIC codec (quiche and BoringSSL), provider id {@code quic-netty}, URI scheme
 * {@code quic}: one bidirectional QUIC stream per {@link dev.braid.MuxedStream}, with native FIN, RESET_STREAM and
 * STOP_SENDING, wire-compatible with the kwik transport (provider id {@code quic}).
 *
 * <p><b>Which one {@code quic://} gets.</b> The kwik transport, for now: this provider's priority (−10) is below kwik's
 * (0) until it keeps every promise of the kit (its README, "Known failures"). Pick it explicitly with
 * {@code TransportRegistry.forId("quic-netty")}. Where its native library cannot load (another OS or architecture) it
 * reports itself unavailable, with the cause.
 *
 * <p>Addresses, certificates and options are the kwik transport's: {@code quic://HOST:PORT?certhash=SHA256HEX}, a
 * self-signed certificate made at run time (or the shared {@code tls.keyStore} options), {@link NettyQuicOptions}.
 *
 * <p><b>Thread safety.</b> Thread-safe and stateless; the constructor never throws and loads nothing.
 */
public final class NettyQuicTransportProvider implements TransportProvider {
  /** The provider id. */
  public static final String ID = "quic-netty";

  /** Creates the provider; does no I/O. */
  public NettyQuicTransportProvider() {}

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Set<String> schemes() {
    return Set.of("quic");
  }

  /**
   * -10: below the kwik transport for now, so {@code quic://} stays kwik's until this one keeps every promise of the kit
   * (README, "Known failures"); pick it with {@code TransportRegistry.forId("quic-netty")}.
   */
  @Override
  public int priority() {
    return -10;
  }

  @Override
  public boolean isAvailable() {
    return unavailabilityCause() == null;
  }

  /** Checked once and remembered: the first call loads quiche's JNI library (extracted into java.io.tmpdir). */
  @Override
  public Throwable unavailabilityCause() {
    return NativeSupport.unavailabilityCause();
  }

  @Override
  public Set<Capability> capabilities() {
    return NettyQuicTransport.CAPABILITIES;
  }

  @Override
  public URI testListenAddress() {
    return URI.create("quic://127.0.0.1:0");
  }

  @Override
  public Transport create(TransportOptions options) throws IOException {
    Throwable why = unavailabilityCause();
    if (why != null) {
      throw new IOException("the Netty QUIC transport cannot run here: " + why.getMessage(), why);
    }
    return new NettyQuicTransport(options);
  }

  /**
   * Netty's QUIC codec (Java classes, and the JNI library with quiche and BoringSSL, linux-x86_64), read from their
   * jars without loading the native library.
   */
  @Override
  public Map<String, String> libraryVersions() {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("netty-codec-classes-quic", TransportProvider.mavenVersion(io.netty.handler.codec.quic.QuicChannel.class,
        "io.netty", "netty-codec-classes-quic"));
    v.put("netty-codec-native-quic", NativeSupport.nativeArtifactVersion());
    v.put("netty-transport", TransportProvider.mavenVersion(io.netty.channel.Channel.class, "io.netty",
        "netty-transport"));
    return v;
  }
}
