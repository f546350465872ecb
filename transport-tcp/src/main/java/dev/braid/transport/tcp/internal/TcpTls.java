package dev.braid.transport.tcp.internal;

import dev.braid.TransportOptions;
import dev.braid.tls.CertificatePins;
import dev.braid.tls.ListenerIdentity;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * TLS 1.3 for the TCP transport, with the JDK's TLS in Netty's {@code SslHandler}. A listener's key and
 * certificate are its {@link ListenerIdentity}: from the keystore the options name, or a self-signed certificate
 * made at run time; its address publishes the certificate's SHA-256 ({@code tcp+tls://host:port?certhash=HEX}).
 * A dialer given that hash trusts exactly that certificate ({@link CertificatePins#trustOnly}), with no host name
 * check; a dialer without one verifies the server against the JDK's default trust store and host name.
 *
 * <p><b>Thread safety.</b> Immutable.
 *
 * @param serverContext the listener's context
 * @param certificateHash the value of {@code certhash} in the listener's address
 */
record TcpTls(SslContext serverContext, String certificateHash) {
  private static final String[] PROTOCOLS = {"TLSv1.3"};
  /** The subject of a listener's self-signed certificate. */
  static final String COMMON_NAME = "braid-tcp";

  /**
   * The server side of a TLS listener configured by {@code options}.
   *
   * @throws IOException if the keystore the options name cannot be used, or the context cannot be built
   */
  static TcpTls forListener(TransportOptions options) throws IOException {
    ListenerIdentity identity = ListenerIdentity.from(options, COMMON_NAME, List.of(), List.of());
    SslContext context = SslContextBuilder.forServer(identity.key(), identity.chain().toArray(new X509Certificate[0]))
        .sslProvider(SslProvider.JDK)
        .protocols(PROTOCOLS)
        .build();
    return new TcpTls(context, identity.certificateHash());
  }

  /**
   * A dialer's context: pinned to {@code certHash} (hex SHA-256 of the server certificate) when given, with no
   * host name check (the pin is the identity, and a self-signed certificate names no host); otherwise verifying
   * the server against the JDK's default trust store and its host name.
   */
  static SslContext clientContext(String certHash) throws SSLException {
    SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols(PROTOCOLS);
    if (certHash != null) {
      b.trustManager(CertificatePins.trustOnly(certHash)).endpointIdentificationAlgorithm(null);
    } else {
      b.endpointIdentificationAlgorithm("HTTPS");
    }
    return b.build();
  }
}
