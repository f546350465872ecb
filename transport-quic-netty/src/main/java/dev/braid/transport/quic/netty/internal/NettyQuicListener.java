package dev.braid.transport.quic.netty.internal;

import dev.braid.TransportOptions;
import dev.braid.spi.AbstractListener;
import dev.braid.tls.ListenerIdentity;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicTokenHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Netty QUIC server on one UDP socket. Its address carries the SHA-256 of its certificate
 * ({@code quic://127.0.0.1:PORT?certhash=HEX}), which dialers pin; the certificate is the shared
 * {@link ListenerIdentity}, naming every address the listener can be dialed at ({@link CertificateNames}).
 *
 * <p>The socket is shared by the listener's connections, so {@link #close()} stops accepting at once (handshakes that
 * finish later are closed) but keeps the socket until the last accepted connection has ended, or the transport
 * closes.
 *
 * <p><b>Thread safety.</b> Thread-safe, as {@link AbstractListener}.
 */
final class NettyQuicListener extends AbstractListener {
  private static final int MAX_UNACCEPTED = 128;
  /** Issues no tokens, so the server never sends Retry (kwik 0.10.8 sometimes fails on one). */
  private static final QuicTokenHandler NO_RETRY = new QuicTokenHandler() {
    @Override
    public boolean writeToken(ByteBuf out, ByteBuf dcid, InetSocketAddress address) {
      return false;
    }

    @Override
    public int validateToken(ByteBuf token, InetSocketAddress address) {
      return -1;
    }

    @Override
    public int maxTokenLength() {
      return 0;
    }
  };

  private final NettyQuicTransport transport;
  private final Channel udp;
  private final BatchHook hook = new BatchHook();
  private final Set<NettyQuicConnection> live = ConcurrentHashMap.newKeySet();

  NettyQuicListener(NettyQuicTransport transport, QuicAddress local) throws IOException {
    super(NettyQuicTransport.ID, local.toUri(), MAX_UNACCEPTED);
    this.transport = transport;
    TransportOptions options = transport.options();
    CertificateNames names = CertificateNames.of(local.host());
    ListenerIdentity identity = ListenerIdentity.from(options, "braid", names.dnsNames(), names.addresses());
    QuicSslContext ssl = QuicSslContextBuilder.forServer(identity.key(), null,
            identity.chain().toArray(new X509Certificate[0]))
        .applicationProtocols(transport.alpn())
        .build();
    ChannelHandler codec = transport.tune(new QuicServerCodecBuilder())
        .sslContext(ssl)
        .tokenHandler(NO_RETRY)
        .handler(new ChannelInitializer<QuicChannel>() {
          @Override
          protected void initChannel(QuicChannel ch) {
            accepted(ch);
          }
        })
        .streamHandler(transport.streamInitializer())
        .streamOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .streamOption(ChannelOption.AUTO_READ, false)
        .build();
    ChannelFuture bind = new Bootstrap().group(transport.group()).channel(NioDatagramChannel.class)
        .option(ChannelOption.SO_RCVBUF, NettyQuicTransport.SOCKET_BUFFER).option(ChannelOption.SO_SNDBUF, NettyQuicTransport.SOCKET_BUFFER)
        .handler(new ChannelInitializer<DatagramChannel>() {
          @Override
          protected void initChannel(DatagramChannel ch) {
            ch.pipeline().addLast(hook, codec);
          }
        })
        .bind(new InetSocketAddress(InetAddress.getByName(local.host()), local.port()))
        .awaitUninterruptibly();
    if (!bind.isSuccess()) {
      throw new IOException("cannot listen for QUIC on " + local.toUri() + ": " + bind.cause(), bind.cause());
    }
    udp = bind.channel();
    InetSocketAddress bound = (InetSocketAddress) udp.localAddress();
    bound(new QuicAddress(local.host(), bound.getPort(), identity.certificateHash()).toUri());
  }

  /** A QuicChannel is starting its handshake (on the socket's loop): its Braid connection, offered when active. */
  private void accepted(QuicChannel ch) {
    InetSocketAddress peer = (InetSocketAddress) ch.remoteSocketAddress();
    URI remote = peer == null ? URI.create("quic://0.0.0.0:0")
        : new QuicAddress(peer.getAddress().getHostAddress(), peer.getPort(), null).toUri();
    NettyQuicConnection c = new NettyQuicConnection(transport, false, address(), remote);
    ch.attr(NettyQuicConnection.KEY).set(c);
    c.attach(ch);
    ch.pipeline().addLast(c.handler());
    hook.add(c);
    live.add(c);
    c.onEnd(() -> connectionEnded(c));
    c.whenActive(() -> {
      transport.register(c);
      offer(c); // closed by the base class when the listener is closed or MAX_UNACCEPTED wait already
    });
  }

  private void connectionEnded(NettyQuicConnection c) {
    live.remove(c);
    withdraw(c);
    udp.eventLoop().execute(() -> hook.remove(c));
    if (isClosed() && live.isEmpty()) {
      closeSocket();
    }
  }

  /** The socket stays while accepted connections use it (see the class comment). */
  @Override
  protected void closeNative() {
    if (live.isEmpty()) {
      closeSocket();
    }
  }

  /** Frees the port; the transport's close calls it too. */
  void closeSocket() {
    udp.close();
    transport.unregister(this);
  }
}
