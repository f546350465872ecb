package dev.braid.transport.tcp.internal;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.BraidFuture;
import dev.braid.transport.tcp.TcpOptions;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One TCP transport instance: a Netty event loop group (epoll or NIO), its listeners and connections.
 *
 * <p>Its settings are {@link TcpOptions}, every one parsed in the constructor, so a bad value fails
 * {@code create} with the option's message. Every future it hands out is a {@link BraidFuture}: completed on
 * an event loop, but no continuation runs there.
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
public final class TcpTransport implements Transport {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.tcp");
  /** Prefix of every I/O thread name. */
  public static final String THREAD_PREFIX = "braid-tcp";
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final TransportOptions options;
  private final Set<Capability> capabilities;
  private final boolean tlsByDefault;
  private final TcpIo io;
  private final EventLoopGroup group;
  private final Set<TcpListener> listeners = ConcurrentHashMap.newKeySet();
  private final Set<TcpConnection> connections = ConcurrentHashMap.newKeySet();
  private final List<Thread> ioThreads = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();
  private boolean closed; // guarded by lock

  /**
   * @param options limits, timeouts and properties ({@link TcpOptions})
   * @param capabilities what the transport declares
   * @throws IllegalArgumentException naming the option, if a property has a bad value
   */
  public TcpTransport(TransportOptions options, Set<Capability> capabilities) {
    this.options = options;
    this.capabilities = Set.copyOf(capabilities);
    this.tlsByDefault = options.get(TcpOptions.TLS);
    int threads = options.get(TcpOptions.EVENT_LOOP_THREADS);
    options.get(TcpOptions.MAX_STREAM_WINDOW); // read by each session; a bad value fails here
    options.get(TcpOptions.WINDOW_BUDGET);
    // A TLS listener reads these when it binds; a bad value fails here, before any thread starts.
    options.get(TransportOptions.TLS_KEY_STORE);
    options.get(TransportOptions.TLS_KEY_STORE_PASSWORD);
    options.get(TransportOptions.TLS_KEY_ALIAS);
    this.io = TcpIo.select(options.get(TcpOptions.IO));
    this.group = new MultiThreadIoEventLoopGroup(threads,
        new DefaultThreadFactory(THREAD_PREFIX + "-" + INSTANCES.incrementAndGet(), true) {
          @Override
          protected Thread newThread(Runnable r, String name) {
            Thread t = super.newThread(r, name);
            ioThreads.add(t);
            return t;
          }
        }, io.handlers());
  }

  @Override
  public String id() {
    return "tcp";
  }

  @Override
  public Set<Capability> capabilities() {
    return capabilities;
  }

  /** As {@link Transport#dial}; the future is a {@link BraidFuture}, whatever the outcome. */
  @Override
  public BraidFuture<Connection> dial(URI address) {
    TcpAddress a = TcpAddress.parse(address, tlsByDefault);
    synchronized (lock) {
      if (closed) {
        return BraidFuture.failed(new ConnectionFailedException("the transport is closed", null));
      }
    }
    SslContext ssl;
    try {
      ssl = a.tls() ? TcpTls.clientContext(a.certHash()) : null;
    } catch (IOException e) {
      return BraidFuture.failed(new ConnectionFailedException("cannot set up TLS: " + e.getMessage(), e));
    }
    // Completed on the channel's event loop; the application's continuations run on Braid event threads.
    BraidFuture<Connection> result = new BraidFuture<>();
    Bootstrap b = new Bootstrap()
        .group(group)
        .channel(io.channel())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, options.connectTimeout().toMillis()))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            SslHandler sslHandler = null;
            if (ssl != null) {
              sslHandler = ssl.newHandler(ch.alloc(), a.host(), a.port());
            }
            install(ch, true, sslHandler, c -> {
              if (!result.complete(c)) { // the caller gave up (cancelled the future)
                c.close();
              }
            }, result::completeExceptionally);
          }
        });
    ChannelFuture connect;
    try {
      connect = b.connect(new InetSocketAddress(a.host(), a.port()));
    } catch (RuntimeException e) {
      return BraidFuture.failed(new ConnectionFailedException("cannot dial " + address + ": " + e, e));
    }
    connect.addListener(f -> {
      if (!f.isSuccess()) {
        Throwable c = f.cause();
        result.completeExceptionally(new ConnectionFailedException("cannot connect to " + address + ": "
            + c.getMessage(), c));
      }
    });
    return result;
  }

  @Override
  public Listener listen(URI address) throws IOException {
    TcpAddress a = TcpAddress.parse(address, tlsByDefault);
    synchronized (lock) {
      if (closed) {
        throw new IOException("the transport is closed");
      }
    }
    TcpTls tls = a.tls() ? TcpTls.forListener(options) : null;
    TcpListener listener = new TcpListener(this, address);
    ServerBootstrap b = new ServerBootstrap()
        .group(group)
        .channel(io.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 1024)
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.WARNING, listener + " failed to accept", cause);
          }
        })
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (!listener.beginSetup()) {
              ch.close(); // too many connections still in their (TLS) setup
              return;
            }
            SslHandler sslHandler = tls == null ? null : tls.serverContext().newHandler(ch.alloc());
            install(ch, false, sslHandler, listener::setupDone, listener::setupFailed);
          }
        });
    ChannelFuture bind = b.bind(new InetSocketAddress(a.host(), a.port()));
    if (!bind.awaitUninterruptibly(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
      bind.channel().close();
      throw new IOException("binding " + address + " timed out");
    }
    if (!bind.isSuccess()) {
      throw new IOException("cannot listen on " + address + ": " + bind.cause().getMessage(), bind.cause());
    }
    Channel server = bind.channel();
    InetSocketAddress local = (InetSocketAddress) server.localAddress();
    URI actual = TcpAddress.uri(a.tls() ? "tcp+tls" : "tcp", local);
    if (tls != null) {
      actual = URI.create(actual + "?certhash=" + tls.certificateHash());
    }
    listener.bound(server, actual);
    boolean lateClose;
    synchronized (lock) {
      lateClose = closed;
      if (!lateClose) {
        listeners.add(listener);
      }
    }
    if (lateClose) {
      listener.close();
      throw new IOException("the transport is closed");
    }
    return listener;
  }

  private void install(SocketChannel ch, boolean dialer, SslHandler sslHandler, Consumer<TcpConnection> ready,
      Consumer<Throwable> failed) {
    ChannelPipeline p = ch.pipeline();
    if (sslHandler != null) {
      sslHandler.setHandshakeTimeoutMillis(options.connectTimeout().toMillis());
      p.addLast("tls", sslHandler);
    }
    p.addLast("idle", new IdleStateHandler(options.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
    p.addLast("yamux-frames", new YamuxFrameDecoder(YamuxSession.maxInboundDataLength(options)));
    p.addLast("yamux", new YamuxSession(dialer, sslHandler != null, options, capabilities, c -> {
      boolean lateClose;
      synchronized (lock) {
        lateClose = closed;
        if (!lateClose) {
          connections.add(c);
        }
      }
      if (lateClose) {
        c.close();
        failed.accept(new ConnectionFailedException("the transport is closed", null));
        return;
      }
      c.closeFuture().whenComplete((ok, err) -> connections.remove(c));
      ready.accept(c);
    }, failed));
  }

  private static WriteBufferWaterMark waterMark() {
    return new WriteBufferWaterMark(256 * 1024, 1024 * 1024);
  }

  void listenerClosed(TcpListener l) {
    listeners.remove(l);
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    for (TcpListener l : new ArrayList<>(listeners)) {
      l.close();
    }
    List<CompletableFuture<Void>> ends = new ArrayList<>();
    for (TcpConnection c : new ArrayList<>(connections)) {
      c.close();
      ends.add(c.closeFuture());
    }
    boolean onOwnThread = group.next().inEventLoop();
    for (EventExecutor e : group) {
      onOwnThread |= e.inEventLoop();
    }
    if (onOwnThread) {
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      return; // cannot wait for our own thread
    }
    try {
      CompletableFuture.allOf(ends.toArray(new CompletableFuture<?>[0])).handle((v, e) -> null)
          .get(6, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(System.Logger.Level.DEBUG, "connections did not all end in time; shutting down anyway", e);
    }
    if (!group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS)) {
      LOG.log(System.Logger.Level.WARNING, "tcp transport I/O threads did not stop within 10 s");
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (Thread t : ioThreads) { // the termination future completes just before the threads exit
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
  }

  /** {@code "epoll"} or {@code "nio"}. */
  public String ioName() {
    return io.name();
  }

  @Override
  public String toString() {
    return "tcp transport (" + io.name() + ") " + options;
  }
}
