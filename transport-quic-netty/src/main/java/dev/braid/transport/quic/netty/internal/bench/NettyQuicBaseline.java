package dev.braid.transport.quic.netty.internal.bench;

import dev.braid.spi.BenchBaseline;
import dev.braid.tls.CertificatePins;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.Quic;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamFrame;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The baseline for {@code quic-netty} in {@code braid bench}: Netty's QUIC codec (4.2.18, quiche and BoringSSL) used
 * directly, without Braid. One server ({@link NettyQuicBenchServer}) on a loopback UDP socket and one client
 * {@link QuicChannel} to it; every measurement uses bidirectional QUIC streams on that one connection, where Braid uses
 * its streams. The server echoes streams whose first byte is {@code 'E'} and reads every other stream to its end; at
 * the end of a stream (the client's FIN) it sends its own FIN, so "write N bytes, FIN, wait for the peer's FIN"
 * measures the same thing as Braid's one-stream figure, and as the kwik baseline of {@code quic}.
 *
 * <p>Both ends use the transport's codec settings (see {@link NettyQuicBenchServer}); the client trusts exactly the
 * server's certificate ({@link CertificatePins}). One event loop group of {@code min(2, cores)} threads named
 * {@value #THREAD_PREFIX}…, as many as one Netty QUIC transport has; the server's socket and the client's are on
 * different loops.
 *
 * <p><b>Writing.</b> A writer runs on the client's event loop: it writes 64 KiB slices of one direct buffer (quiche
 * copies them), at most {@value #WRITES_IN_FLIGHT} unfinished at a time; a write finishes when quiche has taken all
 * of it, which its stream and connection windows bound, so memory stays bounded. The last slice carries the FIN
 * ({@link DefaultQuicStreamFrame} with FIN). The measuring thread waits on futures, never on the loop; the round trip
 * is that of a caller that blocks, as in the kwik baseline.
 *
 * <p><b>Bounds.</b> Every measurement fails after {@code opTimeout} ({@value #OP_TIMEOUT_SECONDS} s by default)
 * instead of hanging, e.g. if a FIN is never reported: the Netty QUIC transport found that quiche can know of a FIN
 * that arrived on its own after every byte was read and never make it readable, and probes quiche's internals for it;
 * this baseline uses Netty's public API only, so such a stall would fail the measurement. Where a stream's last bytes
 * and its FIN are known together they travel together (the client's last slice, the server's last echo), as Netty's
 * API allows. A failed measurement closes its connection and dials a new one to the same server, so the next
 * measurement, or a retry, starts clean.
 *
 * <p><b>Thread safety.</b> Not thread-safe: {@code Bench} calls one method at a time.
 */
public final class NettyQuicBaseline implements BenchBaseline {
  static final long OP_TIMEOUT_SECONDS = 120;
  /** Prefix of the name of every thread the baseline starts. */
  static final String THREAD_PREFIX = "braid-bench-quic-netty-";
  private static final int CHUNK = 64 * 1024;
  private static final int WRITES_IN_FLIGHT = 4;
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.netty.bench");

  private final Duration opTimeout;
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private EventLoopGroup group;
  private NettyQuicBenchServer server;
  private ByteBuf chunk;
  private Channel udp;
  private QuicChannel connection;
  private int replacedConnections;

  /** Creates the baseline; {@link #start()} does the work. */
  public NettyQuicBaseline() {
    this(Duration.ofSeconds(OP_TIMEOUT_SECONDS));
  }

  /** A baseline whose measurements fail after {@code opTimeout} without a result. */
  NettyQuicBaseline(Duration opTimeout) {
    if (opTimeout.isNegative() || opTimeout.isZero()) {
      throw new IllegalArgumentException("opTimeout must be positive: " + opTimeout);
    }
    this.opTimeout = opTimeout;
  }

  @Override
  public String transportId() {
    return "quic-netty";
  }

  @Override
  public String name() {
    return "Netty QUIC 4.2.18 direct";
  }

  @Override
  public void start() throws Exception {
    try {
      Quic.ensureAvailability(); // quiche's native library: a clear error where it does not load
      int n = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())); // as one transport has
      group = new MultiThreadIoEventLoopGroup(n,
          new DefaultThreadFactory(THREAD_PREFIX.substring(0, THREAD_PREFIX.length() - 1), true) {
            @Override
            protected Thread newThread(Runnable r, String name) {
              Thread t = super.newThread(r, name);
              threads.add(t);
              return t;
            }
          }, NioIoHandler.newFactory());
      chunk = Unpooled.directBuffer(CHUNK, CHUNK);
      chunk.writerIndex(CHUNK);
      for (int i = 0; i < CHUNK; i++) {
        chunk.setByte(i, 'S');
      }
      server = new NettyQuicBenchServer();
      server.start(group);
      connection = dial();
    } catch (Exception | Error e) {
      try {
        stop();
      } catch (Exception e2) {
        e.addSuppressed(e2);
      }
      throw e;
    }
  }

  @Override
  public void stop() throws Exception {
    Exception failure = null;
    try {
      closeConnection();
    } catch (Exception e) {
      failure = e;
    }
    if (server != null) {
      try {
        server.stop();
      } catch (Exception e) {
        failure = addTo(failure, e);
      }
      server = null;
    }
    if (chunk != null) {
      chunk.release(); // writes still pending hold their own slices
      chunk = null;
    }
    if (group != null) {
      EventLoopGroup g = group;
      group = null;
      if (!g.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS)) {
        failure = addTo(failure, new TimeoutException("Netty QUIC baseline: event loops did not stop within 10 s"));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      for (Thread t : threads) { // the termination future completes just before the threads exit
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
      threads.clear();
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static Exception addTo(Exception first, Exception next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  /** A new client connection on a UDP socket of its own, trusting exactly the server's certificate. */
  private QuicChannel dial() throws Exception {
    QuicSslContext ssl = QuicSslContextBuilder.forClient()
        .trustManager(CertificatePins.trustOnly(server.certificateHash()))
        .applicationProtocols(NettyQuicBenchServer.ALPN)
        .build();
    ChannelHandler codec = NettyQuicBenchServer.tune(new QuicClientCodecBuilder(), 0).sslContext(ssl).build();
    ChannelFuture bind = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Channel socket = bind.channel();
    try {
      if (!bind.await(10, TimeUnit.SECONDS) || !bind.isSuccess()) {
        throw new IOException("Netty QUIC baseline: cannot bind the client socket: " + bind.cause(), bind.cause());
      }
      Future<QuicChannel> connect = QuicChannel.newBootstrap(socket)
          .handler(new NettyQuicBenchServer.ConnectionEvents("client"))
          .streamHandler(new RefuseServerStreams())
          .remoteAddress(server.address())
          .connect();
      if (!connect.await(10, TimeUnit.SECONDS)) {
        connect.cancel(false);
        throw new TimeoutException("Netty QUIC baseline: the QUIC handshake did not finish within 10 s");
      }
      if (!connect.isSuccess()) {
        throw new IOException("Netty QUIC baseline: the QUIC handshake failed: " + connect.cause(), connect.cause());
      }
      udp = socket;
      return connect.getNow();
    } catch (Exception | Error e) {
      socket.close();
      throw e;
    }
  }

  /** Closes the client connection and its socket, bounded. */
  private void closeConnection() throws InterruptedException {
    QuicChannel c = connection;
    Channel u = udp;
    connection = null;
    udp = null;
    if (c != null && !c.close().await(2, TimeUnit.SECONDS)) {
      LOG.log(System.Logger.Level.DEBUG, "Netty QUIC baseline: the client connection did not close within 2 s");
    }
    if (u != null && !u.close().await(2, TimeUnit.SECONDS)) {
      LOG.log(System.Logger.Level.DEBUG, "Netty QUIC baseline: the client socket did not close within 2 s");
    }
  }

  /**
   * After a failed measurement: closes the connection it used (its streams may be stuck) and dials a new one (up to 3
   * tries). If no dial succeeds, the baseline has no connection and every later measurement fails at once.
   */
  private void replaceConnection(Exception cause) {
    try {
      closeConnection();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cause.addSuppressed(e);
      return;
    }
    for (int attempt = 1; attempt <= 3 && connection == null; attempt++) {
      try {
        connection = dial();
        replacedConnections++;
        LOG.log(System.Logger.Level.INFO, "Netty QUIC baseline: dialed a new connection after a failed measurement: "
            + cause);
      } catch (Exception e) {
        cause.addSuppressed(e);
      }
    }
  }

  /** How many times a failed measurement made the baseline dial a new connection. */
  int replacedConnections() {
    return replacedConnections;
  }

  /** One measurement on the client connection, which must finish by {@code deadline} (System.nanoTime()). */
  @FunctionalInterface
  private interface Measurement<T> {
    T run(QuicChannel c, long deadline) throws Exception;
  }

  /** Runs {@code work} bounded by the baseline's timeout; on any failure the connection is replaced first. */
  private <T> T bounded(String what, Measurement<T> work) throws Exception {
    QuicChannel c = connection;
    if (c == null) {
      throw new IOException("Netty QUIC baseline: no connection (not started, stopped, or the last redial failed)");
    }
    try {
      return work.run(c, System.nanoTime() + opTimeout.toNanos());
    } catch (TimeoutException e) {
      TimeoutException t = new TimeoutException("Netty QUIC baseline: " + what + " did not finish within "
          + opTimeout.toSeconds() + " s: " + e.getMessage());
      t.initCause(e);
      replaceConnection(t);
      throw t;
    } catch (Exception e) {
      replaceConnection(e);
      throw e;
    }
  }

  /** Nanoseconds left until {@code deadline}; a {@link TimeoutException} naming {@code what} when none are. */
  private static long left(long deadline, String what) throws TimeoutException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new TimeoutException(what);
    }
    return left;
  }

  /** Opens a bidirectional stream; nothing reaches the server until something is written on it. */
  private static Stream open(QuicChannel c, long deadline) throws Exception {
    Stream s = new Stream();
    // Half-closure is Netty's default for QUIC streams; set anyway, here, because a QuicChannelBootstrap's
    // streamOption reaches only the peer's streams, never those opened with createStream or a stream bootstrap.
    Future<QuicStreamChannel> f = c.newStreamBootstrap()
        .type(QuicStreamType.BIDIRECTIONAL)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .handler(s)
        .create();
    if (!f.await(left(deadline, "opening a stream"), TimeUnit.NANOSECONDS)) {
      throw new TimeoutException("opening a stream");
    }
    if (!f.isSuccess()) {
      throw new IOException("Netty could not open a QUIC stream: " + f.cause(), f.cause());
    }
    return s;
  }

  @Override
  public double oneStreamThroughput(long bytes) throws Exception {
    return bounded("one stream of " + bytes + " bytes", (c, deadline) -> {
      Stream s = open(c, deadline);
      long t0 = System.nanoTime();
      s.send(chunk, bytes);
      s.awaitEnd(deadline);
      return bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
    });
  }

  @Override
  public double manyStreamsThroughput(int n, long perStream) throws Exception {
    return bounded(n + " streams of " + perStream + " bytes", (c, deadline) -> {
      List<Stream> streams = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        streams.add(open(c, deadline));
      }
      long t0 = System.nanoTime();
      for (Stream s : streams) {
        s.send(chunk, perStream);
      }
      for (Stream s : streams) {
        s.awaitEnd(deadline);
      }
      return n * perStream / 1e6 / ((System.nanoTime() - t0) / 1e9);
    });
  }

  @Override
  public double openFirstByteMicros(int samples) throws Exception {
    return bounded(samples + " stream opens", (c, deadline) -> {
      double[] us = new double[samples];
      byte[] e = {'E'};
      for (int i = 0; i < samples; i++) {
        long t0 = System.nanoTime();
        Stream s = open(c, deadline);
        s.write(e);
        s.awaitReceived(1, deadline);
        us[i] = (System.nanoTime() - t0) / 1e3;
        s.finish();
        s.awaitEnd(deadline);
      }
      return BenchBaseline.median(us);
    });
  }

  @Override
  public double roundTripMicros(int samples) throws Exception {
    return bounded(samples + " round trips", (c, deadline) -> {
      Stream s = open(c, deadline);
      byte[] msg = new byte[64];
      Arrays.fill(msg, (byte) 'E');
      double[] us = new double[samples];
      for (int i = 0; i < samples; i++) {
        long t0 = System.nanoTime();
        s.write(msg);
        s.awaitReceived(64L * (i + 1), deadline);
        us[i] = (System.nanoTime() - t0) / 1e3;
      }
      s.finish();
      s.awaitEnd(deadline);
      return BenchBaseline.median(us);
    });
  }

  @Override
  public double memoryPerIdleStreamBytes(int n) throws Exception {
    return bounded(n + " idle streams", (c, deadline) -> {
      long before = BenchBaseline.settledHeap();
      int seen = server.streamsSeen();
      List<Stream> streams = new ArrayList<>(n);
      byte[] s1 = {'S'};
      for (int i = 0; i < n; i++) {
        Stream s = open(c, deadline);
        s.write(s1); // makes it exist on both ends
        streams.add(s);
      }
      while (server.streamsSeen() - seen < n) { // both ends hold every stream
        left(deadline, "the server saw " + (server.streamsSeen() - seen) + " of " + n + " idle streams");
        Thread.sleep(1);
      }
      long after = BenchBaseline.usedHeap();
      for (Stream s : streams) {
        s.finish();
      }
      for (Stream s : streams) {
        s.awaitEnd(deadline);
      }
      return Math.max(0, after - before) / (double) n;
    });
  }

  /** The client's peer-stream handler: the server opens none (it has no credit); any that arrives is closed. */
  @ChannelHandler.Sharable
  private static final class RefuseServerStreams extends ChannelInboundHandlerAdapter {
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ctx.close();
    }
  }

  /**
   * One client stream: counts what the server sends, reports the server's FIN, and writes. Netty's events and the
   * writer run on the connection's event loop; the await methods on the measuring thread.
   */
  private static final class Stream extends ChannelInboundHandlerAdapter {
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private volatile QuicStreamChannel ch;
    private long received; // guarded by this
    // the writer (loop)
    private ByteBuf source;
    private long left;
    private int inFlight;
    private boolean pumping;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ch = (QuicStreamChannel) ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      int n = msg instanceof ByteBuf b ? b.readableBytes()
          : msg instanceof QuicStreamFrame f ? f.content().readableBytes() : 0;
      ReferenceCountUtil.release(msg);
      synchronized (this) {
        received += n;
        notifyAll();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt == ChannelInputShutdownReadComplete.INSTANCE) {
        ended.complete(null); // the server's FIN
        wake();
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      fail(new ClosedChannelException()); // nothing once the server's FIN was read
    }

    private void fail(Throwable cause) {
      if (ended.completeExceptionally(cause)) {
        wake();
      }
    }

    private synchronized void wake() {
      notifyAll();
    }

    /** Writes {@code bytes} bytes from slices of {@code from} and the FIN with the last, from the event loop. */
    void send(ByteBuf from, long bytes) {
      QuicStreamChannel c = ch;
      c.eventLoop().execute(() -> {
        source = from;
        left = bytes;
        if (bytes <= 0) {
          finish();
        } else {
          pump();
        }
      });
    }

    /** As many writes as may be unfinished; each finished one calls this again. On the loop. */
    private void pump() {
      if (pumping) {
        return; // a write finished inside write(): the loop below goes on
      }
      pumping = true;
      try {
        while (left > 0 && inFlight < WRITES_IN_FLIGHT && !ended.isDone()) {
          int n = (int) Math.min(source.readableBytes(), left);
          left -= n;
          ByteBuf slice = source.retainedSlice(source.readerIndex(), n);
          inFlight++;
          ch.write(left == 0 ? new DefaultQuicStreamFrame(slice, true) : slice).addListener(f -> {
            inFlight--;
            if (!f.isSuccess()) {
              fail(f.cause());
            } else if (left > 0) {
              pump();
            }
          });
        }
        ch.flush();
      } finally {
        pumping = false;
      }
    }

    /** Writes {@code bytes} (a copy) from any thread. */
    void write(byte[] bytes) {
      QuicStreamChannel c = ch;
      ByteBuf b = c.alloc().directBuffer(bytes.length).writeBytes(bytes);
      c.writeAndFlush(b).addListener(f -> {
        if (!f.isSuccess()) {
          fail(f.cause());
        }
      });
    }

    /** Sends the FIN (from any thread; ordered after earlier writes). */
    void finish() {
      ch.writeAndFlush(new DefaultQuicStreamFrame(Unpooled.EMPTY_BUFFER, true)).addListener(f -> {
        if (!f.isSuccess()) {
          fail(f.cause());
        }
      });
    }

    /** Waits until the server has sent {@code total} bytes on this stream in all. */
    void awaitReceived(long total, long deadline) throws Exception {
      synchronized (this) {
        while (received < total) {
          if (ended.isDone()) {
            ended.get(); // the cause of a failure
            throw new IOException("the echo ended after " + received + " of " + total + " bytes");
          }
          long nanos = left(deadline, "waiting for the echo: " + received + " of " + total + " bytes came back");
          TimeUnit.NANOSECONDS.timedWait(this, nanos);
        }
      }
    }

    private synchronized long received() {
      return received;
    }

    /** Waits for the server's FIN. */
    void awaitEnd(long deadline) throws Exception {
      try {
        ended.get(left(deadline, "waiting for the server's FIN"), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        throw new TimeoutException("waiting for the server's FIN on stream " + ch.streamId() + " (" + received()
            + " bytes received, input shut down: " + ch.isInputShutdown() + ")");
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        throw cause instanceof Exception x ? x : new IOException(cause);
      }
    }
  }
}
