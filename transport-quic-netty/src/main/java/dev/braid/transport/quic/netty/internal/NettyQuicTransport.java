package dev.braid.transport.quic.netty.internal;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.BraidFuture;
import dev.braid.tls.CertificatePins;
import dev.braid.transport.quic.netty.NettyQuicOptions;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicCodecBuilder;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateExecutor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.TrustManagerFactory;

/**
 * Braid's QUIC on Netty's QUIC codec. One event loop group ({@code braid-quic-netty-N-M} threads, two at most: quiche
 * work for a connection stays on one loop); a dial binds a UDP socket of its own, a listener one shared by its
 * connections. Every call into Netty or quiche for a connection runs on that connection's loop.
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
public final class NettyQuicTransport implements Transport {
  /** The provider and transport id. */
  public static final String ID = "quic-netty";
  /** What QUIC can do that a byte pipe cannot. */
  public static final Set<Capability> CAPABILITIES =
      Set.copyOf(EnumSet.of(Capability.STOP_SENDING, Capability.RESET_CODES));
  /** Prefix of every thread this transport starts. */
  public static final String THREAD_PREFIX = "braid-quic-netty";
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.netty");
  private static final AtomicInteger INSTANCES = new AtomicInteger();
  /**
   * UDP socket buffers asked for (the kernel caps them at net.core.rmem_max / wmem_max): with Linux's default 208 KiB
   * a busy loopback drops datagrams from a full receive buffer (quiche counted 50-70 lost packets in a thousand racing
   * rounds), and every loss costs a retransmission round trip.
   */
  static final int SOCKET_BUFFER = 4 << 20;

  private final TransportOptions options;
  private final String alpn;
  private final long connectionWindow;
  private final EventLoopGroup group;
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final Set<NettyQuicConnection> connections = ConcurrentHashMap.newKeySet();
  private final Set<NettyQuicListener> listeners = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @throws IllegalArgumentException naming the option if a {@link NettyQuicOptions} value cannot be parsed
   */
  public NettyQuicTransport(TransportOptions options) {
    this.options = options;
    this.alpn = options.get(NettyQuicOptions.ALPN);
    long window = options.get(NettyQuicOptions.CONNECTION_WINDOW);
    this.connectionWindow = window > 0 ? window : Math.max(16L * 1024 * 1024, options.receiveWindow() * 4L);
    options.get(TransportOptions.TLS_KEY_STORE); // a listener reads these when it binds; a bad value fails here
    options.get(TransportOptions.TLS_KEY_STORE_PASSWORD);
    options.get(TransportOptions.TLS_KEY_ALIAS);
    int n = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
    this.group = new MultiThreadIoEventLoopGroup(n,
        new DefaultThreadFactory(THREAD_PREFIX + "-" + INSTANCES.incrementAndGet(), true) {
          @Override
          protected Thread newThread(Runnable r, String name) {
            Thread t = super.newThread(r, name);
            threads.add(t);
            return t;
          }
        }, NioIoHandler.newFactory());
  }

  TransportOptions options() {
    return options;
  }

  String alpn() {
    return alpn;
  }

  EventLoopGroup group() {
    return group;
  }

  /**
   * The QUIC stream credit (initial_max_streams_bidi, then MAX_STREAMS as streams end) an end grants its peer: more
   * than {@code maxStreams}, so that the peer's opens beyond Braid's own limit reach this end and are refused on the
   * wire with {@code REFUSED} (as the kwik transport does: the same rule on both implementations of the mapping).
   */
  static long peerStreamCredit(TransportOptions options) {
    long max = options.maxStreams();
    return max + Math.max(16, Math.min(max, 1024));
  }

  /** The codec settings both ends share: the mapping's transport parameters and Braid's options. */
  <B extends QuicCodecBuilder<B>> B tune(B b) {
    return b.maxIdleTimeout(Math.max(1, options.idleTimeout().toMillis()), TimeUnit.MILLISECONDS)
        .initialMaxData(connectionWindow)
        .initialMaxStreamDataBidirectionalLocal(options.receiveWindow())
        .initialMaxStreamDataBidirectionalRemote(options.receiveWindow())
        .initialMaxStreamDataUnidirectional(0)
        .initialMaxStreamsBidirectional(peerStreamCredit(options))
        .initialMaxStreamsUnidirectional(0)
        .congestionControlAlgorithm(QuicCongestionControlAlgorithm.CUBIC)
        .activeMigration(false)
        .datagram(16, 16) // keep-alive (NettyQuicConnection): quiche binds no PING for Netty
        .sslTaskExecutor(ImmediateExecutor.INSTANCE);
  }

  /** Every peer stream of every connection of this transport comes through here (on its connection's loop). */
  ChannelHandler streamInitializer() {
    return new ChannelInitializer<QuicStreamChannel>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        NettyQuicConnection c = ch.parent().attr(NettyQuicConnection.KEY).get();
        if (c == null) {
          LOG.log(System.Logger.Level.WARNING, "a QUIC stream arrived on a connection Braid does not know; closed");
          ch.close();
          return;
        }
        c.acceptPeerStream(ch);
      }
    };
  }

  void register(NettyQuicConnection c) {
    connections.add(c);
    c.onEnd(() -> connections.remove(c));
    if (closed) {
      c.close();
    }
  }

  void unregister(NettyQuicListener l) {
    listeners.remove(l);
  }

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  /**
   * Dials: binds a UDP socket of its own, then the QUIC handshake, bounded by {@code connectTimeout}. The future is a
   * {@link BraidFuture} completed directly, so that a caller's cancel or timeout reaches the dial: a connection that
   * arrives after it is closed instead of being left open with no owner.
   */
  @Override
  public CompletableFuture<Connection> dial(URI address) {
    QuicAddress target = QuicAddress.parse(address, false);
    if (closed) {
      return BraidFuture.failed(new ConnectionFailedException("the Netty QUIC transport is closed", null));
    }
    BraidFuture<Connection> result = new BraidFuture<>();
    InetSocketAddress remote;
    QuicSslContext ssl;
    try {
      remote = new InetSocketAddress(InetAddress.getByName(target.host()), target.port());
      ssl = clientSsl(target);
    } catch (UnknownHostException e) {
      return BraidFuture.failed(new ConnectionFailedException("cannot resolve " + target.host() + ": " + e, e));
    } catch (RuntimeException | IOException e) {
      return BraidFuture.failed(new ConnectionFailedException("cannot set up QUIC TLS to " + address + ": " + e, e));
    }
    ChannelHandler codec = tune(new QuicClientCodecBuilder()).sslContext(ssl).build();
    long bound = options.connectTimeout().toMillis();
    try {
      Bootstrap b = new Bootstrap().group(group).channel(NioDatagramChannel.class)
          .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER).option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER)
          .handler(new ChannelInitializer<DatagramChannel>() {
            @Override
            protected void initChannel(DatagramChannel ch) {
              ch.pipeline().addLast(new BatchHook(), codec);
            }
          });
      InetSocketAddress any = new InetSocketAddress(remote.getAddress() instanceof java.net.Inet6Address
          ? InetAddress.getByName("::") : InetAddress.getByName("0.0.0.0"), 0);
      b.bind(any).addListener(bf -> {
        if (!bf.isSuccess()) {
          result.completeExceptionally(new ConnectionFailedException("cannot bind a UDP socket to dial " + address
              + ": " + bf.cause(), bf.cause()));
          return;
        }
        Channel udp = ((io.netty.channel.ChannelFuture) bf).channel();
        connect(udp, target, remote, result, bound);
      });
    } catch (RejectedExecutionException | UnknownHostException e) {
      result.completeExceptionally(new ConnectionFailedException("the Netty QUIC transport is closed", e));
    }
    return result;
  }

  private void connect(Channel udp, QuicAddress target, InetSocketAddress remote, BraidFuture<Connection> result,
      long boundMillis) {
    InetSocketAddress la = (InetSocketAddress) udp.localAddress();
    URI local = new QuicAddress(la.getAddress().getHostAddress(), la.getPort(), null).toUri();
    NettyQuicConnection c = new NettyQuicConnection(this, true, local, target.toUri());
    udp.pipeline().get(BatchHook.class).add(c);
    io.netty.util.concurrent.ScheduledFuture<?> timer = udp.eventLoop().schedule(() -> {
      if (result.completeExceptionally(new ConnectionFailedException("QUIC handshake with " + target.toUri()
          + " did not finish within " + boundMillis + " ms", null))) {
        udp.close();
      }
    }, boundMillis, TimeUnit.MILLISECONDS);
    QuicChannel.newBootstrap(udp)
        .attr(NettyQuicConnection.KEY, c)
        .handler(c.handler())
        .streamHandler(streamInitializer())
        .streamOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .streamOption(ChannelOption.AUTO_READ, false)
        .remoteAddress(remote)
        .connect()
        .addListener(f -> {
          timer.cancel(false);
          if (!f.isSuccess()) {
            udp.close();
            result.completeExceptionally(new ConnectionFailedException("QUIC handshake with " + target.toUri()
                + " failed: " + f.cause(), f.cause()));
            return;
          }
          QuicChannel quic = (QuicChannel) f.getNow();
          c.onEnd(udp::close);
          c.attach(quic);
          register(c);
          if (!result.complete(c)) {
            c.close(); // timed out or given up meanwhile
          }
        });
  }

  private QuicSslContext clientSsl(QuicAddress target) throws IOException {
    QuicSslContextBuilder b = QuicSslContextBuilder.forClient().applicationProtocols(alpn);
    if (target.certHash() != null) {
      b.trustManager(CertificatePins.trustOnly(target.certHash()));
    } else {
      try {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init((java.security.KeyStore) null);
        b.trustManager(tmf).endpointIdentificationAlgorithm("HTTPS");
      } catch (java.security.GeneralSecurityException e) {
        throw new IOException("the JDK's default trust store cannot be loaded: " + e, e);
      }
    }
    return b.build();
  }

  @Override
  public Listener listen(URI address) throws IOException {
    QuicAddress local = QuicAddress.parse(address, true);
    if (closed) {
      throw new IOException("the Netty QUIC transport is closed");
    }
    NettyQuicListener l = new NettyQuicListener(this, local);
    listeners.add(l);
    if (closed) {
      l.close();
    }
    return l;
  }

  /** Closes listeners and connections, waits (bounded) for them, then stops the event loops and their threads. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (NettyQuicListener l : new ArrayList<>(listeners)) {
      l.close();
      l.closeSocket();
    }
    List<CompletableFuture<Void>> ends = new ArrayList<>();
    for (NettyQuicConnection c : new ArrayList<>(connections)) {
      c.close();
      ends.add(c.ended());
    }
    boolean onOwnThread = false;
    for (EventExecutor e : group) {
      onOwnThread |= e.inEventLoop();
    }
    if (onOwnThread) {
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      return; // cannot wait for our own thread
    }
    try {
      CompletableFuture.allOf(ends.toArray(new CompletableFuture<?>[0])).get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(System.Logger.Level.DEBUG, "Netty QUIC transport close: not every connection ended in time: {0}",
          e.toString());
    }
    if (!group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS)) {
      LOG.log(System.Logger.Level.WARNING, "Netty QUIC transport event loops did not stop within 10 s");
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (Thread t : threads) { // the termination future completes just before the threads exit
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
  }

  boolean isClosed() {
    return closed;
  }
}
