package dev.braid.transport.tcp;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import dev.braid.transport.tcp.internal.TcpTransport;
import java.io.IOException;
import java.net.URI;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The TCP transport: TCP via Netty, optionally TLS 1.3 (scheme {@code tcp+tls}, or {@link TcpOptions#TLS}
 * {@code tcp.tls=true}), with yamux (hashicorp/yamux {@code spec.md}, as libp2p uses it) multiplexing the
 * streams. Provider id {@code tcp}; schemes {@code tcp} and {@code tcp+tls}.
 *
 * <p>Addresses: {@code tcp://host:port}; {@code tcp+tls://host:port?certhash=HEX} where {@code HEX} is the
 * SHA-256 of the server certificate (from the keystore the options name, or made at run time), which a TLS
 * listener publishes in its {@link dev.braid.Listener#address()} and a dialer pins, with no host name check.
 * Declares {@link Capability#RESET_CODES} (the libp2p yamux extension: a Window Update with RST carries the code
 * in its length field; peers without the extension read code 0). It does not declare
 * {@link Capability#STOP_SENDING}: yamux cannot tell the peer that we stopped reading, so {@code closeRead()}
 * discards inbound bytes locally (still returning window credit). Nor {@link Capability#OPENING_STATE}: a yamux
 * stream is usable as soon as its SYN is sent.
 *
 * <p>Settings: {@link TcpOptions} (the properties {@code tcp.tls}, {@code tcp.io} and {@code tcp.eventLoopThreads}) and the
 * shared TLS keystore keys of {@link TransportOptions}; {@link #create} fails with an
 * {@link IllegalArgumentException} naming the option when one has a bad value.
 *
 * <p><b>Thread safety.</b> Thread-safe and stateless; the constructor never throws and does no I/O.
 */
public final class TcpTransportProvider implements TransportProvider {
  private static final Set<Capability> CAPABILITIES = Set.of(Capability.RESET_CODES);

  /** For {@link java.util.ServiceLoader}. */
  public TcpTransportProvider() {}

  @Override
  public String id() {
    return "tcp";
  }

  @Override
  public Set<String> schemes() {
    return Set.of("tcp", "tcp+tls");
  }

  @Override
  public boolean isAvailable() {
    return true;
  }

  @Override
  public Throwable unavailabilityCause() {
    return null;
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  @Override
  public URI testListenAddress() {
    return URI.create("tcp://127.0.0.1:0");
  }

  /** @throws IllegalArgumentException naming the option, if a {@link TcpOptions} or TLS keystore key has a bad value */
  @Override
  public Transport create(TransportOptions options) throws IOException {
    return new TcpTransport(options, CAPABILITIES);
  }

  /** Netty, read from its jar: {@code netty-transport} and {@code netty-handler} (TLS). */
  @Override
  public Map<String, String> libraryVersions() {
    Map<String, String> v = new LinkedHashMap<>(); // in the order to show
    v.put("netty-transport", TransportProvider.mavenVersion(io.netty.channel.Channel.class, "io.netty",
        "netty-transport"));
    v.put("netty-handler", TransportProvider.mavenVersion(io.netty.handler.ssl.SslHandler.class, "io.netty",
        "netty-handler"));
    return v;
  }
}
