package dev.braid.transport.quic.netty.internal;

import io.netty.handler.codec.quic.QuicChannel;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;

/**
 * Every use of Netty 4.2.18's QUIC internals, in one place: what its public API cannot do for Braid's QUIC mapping.
 * Each section names the gap and when it is obsolete. All calls run on the connection's event loop (quiche is not
 * thread-safe); none is made once the connection is freed. An upgrade of Netty that moves any of these members makes
 * the provider report itself unavailable with the member's name ({@link #failure()}), never a broken transport;
 * {@code NettyInternalsTest} fails loudly then.
 *
 * <ol>
 *   <li><b>62-bit error codes.</b> {@code QuicStreamChannel.shutdownOutput(int)} / {@code shutdownInput(int)} take an
 *       {@code int}, widened with sign by Netty: Braid's codes above 2^31 (application codes up to 2^32−257,
 *       {@code REFUSED}, {@code INTERNAL_ERROR}, closeRead's 2^32) would reach quiche as values above 2^62, and quiche
 *       panics serialising them (the JVM dies). RESET_STREAM and STOP_SENDING are sent through quiche's own binding,
 *       {@code Quiche.quiche_conn_stream_shutdown(conn, stream, direction, long code)}. <b>Obsolete when</b> Netty
 *       takes {@code long} codes (netty#17499).</li>
 *   <li><b>A peer's STOP_SENDING without a pending write</b> is not reported at all (netty#17380). Braid asks quiche
 *       for the stream's capacity after each batch of packets: {@code QUICHE_ERR_STREAM_STOPPED} means the peer asked
 *       us to stop. quiche does not give the code: Braid reports 0, which is what a Braid peer's {@code closeRead}
 *       means. <b>Obsolete when</b> Netty fires an event for STOP_SENDING with its code.</li>
 *   <li><b>The end of a stream Netty does not read.</b> After our STOP_SENDING quiche drops what arrives and never
 *       reports the peer's answer (its RESET_STREAM or FIN), and a reader paused for back-pressure does not see a
 *       reset until it reads. {@code Quiche.quiche_conn_stream_finished} tells both.</li>
 *   <li><b>Closing.</b> {@code QuicChannel.close()} sends CONNECTION_CLOSE once and frees quiche's connection at once:
 *       if that one datagram is lost (a full socket buffer drops it, on loopback too) the peer learns of the close
 *       only at its idle timeout. Braid closes through quiche ({@code quiche_conn_close}): quiche keeps the connection
 *       in its closing state (RFC 9000 §10.2), answers what still arrives with CONNECTION_CLOSE again, and ends it
 *       after three PTOs; Netty then closes the channel itself. <b>Obsolete when</b> Netty's close keeps the closing
 *       state.</li>
 * </ol>
 *
 * <p><b>Thread safety.</b> Stateless; call on the connection's event loop only.
 */
final class NettyInternals {
  private static final String PKG = "io.netty.handler.codec.quic.";
  static final int SHUTDOWN_READ;
  static final int SHUTDOWN_WRITE;
  static final int ERR_DONE;
  static final int ERR_STREAM_STOPPED;
  static final int ERR_INVALID_STREAM_STATE;
  private static final MethodHandle STREAM_SHUTDOWN; // (long conn, long stream, int direction, long code) int
  private static final MethodHandle STREAM_CAPACITY; // (long conn, long stream) long
  private static final MethodHandle STREAM_FINISHED; // (long conn, long stream) boolean
  private static final MethodHandle CONN_CLOSE; // (long conn, boolean app, long err, long reason, int len) int
  private static final MethodHandle CONNECTION; // (QuicheQuicChannel) QuicheQuicConnection, as (Object) Object
  private static final MethodHandle ADDRESS; // (QuicheQuicConnection) long, as (Object) long
  private static final MethodHandle IS_FREED; // (QuicheQuicConnection) boolean, as (Object) boolean
  private static final MethodHandle SEND_AND_FLUSH; // (QuicheQuicChannel) void, as (Object) void
  private static final Throwable FAILURE;

  static {
    int read = -1;
    int write = -1;
    int done = -1;
    int stopped = -1;
    int invalid = -1;
    MethodHandle shutdown = null;
    MethodHandle capacity = null;
    MethodHandle finished = null;
    MethodHandle close = null;
    MethodHandle connection = null;
    MethodHandle address = null;
    MethodHandle freed = null;
    MethodHandle sendAndFlush = null;
    Throwable failure = null;
    String member = "class " + PKG + "Quiche";
    try {
      Class<?> quiche = Class.forName(PKG + "Quiche", true, NettyInternals.class.getClassLoader());
      Class<?> channel = Class.forName(PKG + "QuicheQuicChannel", false, NettyInternals.class.getClassLoader());
      Class<?> conn = Class.forName(PKG + "QuicheQuicConnection", false, NettyInternals.class.getClassLoader());
      MethodHandles.Lookup q = MethodHandles.privateLookupIn(quiche, MethodHandles.lookup());
      member = "Quiche.QUICHE_SHUTDOWN_READ";
      read = intField(quiche, "QUICHE_SHUTDOWN_READ");
      member = "Quiche.QUICHE_SHUTDOWN_WRITE";
      write = intField(quiche, "QUICHE_SHUTDOWN_WRITE");
      member = "Quiche.QUICHE_ERR_DONE";
      done = intField(quiche, "QUICHE_ERR_DONE");
      member = "Quiche.QUICHE_ERR_STREAM_STOPPED";
      stopped = intField(quiche, "QUICHE_ERR_STREAM_STOPPED");
      member = "Quiche.QUICHE_ERR_INVALID_STREAM_STATE";
      invalid = intField(quiche, "QUICHE_ERR_INVALID_STREAM_STATE");
      member = "Quiche.quiche_conn_stream_shutdown(long, long, int, long)";
      shutdown = q.findStatic(quiche, "quiche_conn_stream_shutdown",
          MethodType.methodType(int.class, long.class, long.class, int.class, long.class));
      member = "Quiche.quiche_conn_stream_capacity(long, long)";
      capacity = q.findStatic(quiche, "quiche_conn_stream_capacity",
          MethodType.methodType(long.class, long.class, long.class));
      member = "Quiche.quiche_conn_stream_finished(long, long)";
      finished = q.findStatic(quiche, "quiche_conn_stream_finished",
          MethodType.methodType(boolean.class, long.class, long.class));
      member = "Quiche.quiche_conn_close(long, boolean, long, long, int)";
      close = q.findStatic(quiche, "quiche_conn_close",
          MethodType.methodType(int.class, long.class, boolean.class, long.class, long.class, int.class));
      member = "QuicheQuicChannel.connection";
      MethodHandles.Lookup qc = MethodHandles.privateLookupIn(channel, MethodHandles.lookup());
      MethodHandles.Lookup qq = MethodHandles.privateLookupIn(conn, MethodHandles.lookup());
      connection = qc.findGetter(channel, "connection", conn).asType(MethodType.methodType(Object.class, Object.class));
      member = "QuicheQuicConnection.address()";
      address = qq.findVirtual(conn, "address", MethodType.methodType(long.class))
          .asType(MethodType.methodType(long.class, Object.class));
      member = "QuicheQuicConnection.isFreed()";
      freed = qq.findVirtual(conn, "isFreed", MethodType.methodType(boolean.class))
          .asType(MethodType.methodType(boolean.class, Object.class));
      member = "QuicheQuicChannel.connectionSendAndFlush()";
      sendAndFlush = qc.findVirtual(channel, "connectionSendAndFlush", MethodType.methodType(void.class))
          .asType(MethodType.methodType(void.class, Object.class));
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      failure = new IllegalStateException("Netty's QUIC codec lacks " + member + " that Braid needs (written for Netty "
          + "4.2.18.Final): " + e, e);
    }
    SHUTDOWN_READ = read;
    SHUTDOWN_WRITE = write;
    ERR_DONE = done;
    ERR_STREAM_STOPPED = stopped;
    ERR_INVALID_STREAM_STATE = invalid;
    STREAM_SHUTDOWN = shutdown;
    STREAM_CAPACITY = capacity;
    STREAM_FINISHED = finished;
    CONN_CLOSE = close;
    CONNECTION = connection;
    ADDRESS = address;
    IS_FREED = freed;
    SEND_AND_FLUSH = sendAndFlush;
    FAILURE = failure;
  }

  private NettyInternals() {}

  private static int intField(Class<?> c, String name) throws ReflectiveOperationException {
    Field f = c.getDeclaredField(name);
    f.setAccessible(true);
    return f.getInt(null);
  }

  /** Why these members cannot be used, or null. */
  static Throwable failure() {
    return FAILURE;
  }

  /** quiche's connection pointer, or 0 once Netty freed it (the connection is over: nothing is sent then). */
  private static long conn(QuicChannel ch) {
    try {
      Object c = CONNECTION.invokeExact((Object) ch);
      if (c == null || (boolean) IS_FREED.invokeExact(c)) {
        return 0;
      }
      return (long) ADDRESS.invokeExact(c);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Section 1: quiche's {@code stream_shutdown} with a 62-bit code (RESET_STREAM for {@link #SHUTDOWN_WRITE},
   * STOP_SENDING for {@link #SHUTDOWN_READ}), then the packets go out. Returns quiche's result (0, or an error such as
   * {@link #ERR_DONE} for a side already shut), or {@link #ERR_DONE} when the connection is freed.
   */
  static int shutdown(QuicChannel ch, long streamId, int direction, long code) {
    if (code < 0 || code >= 1L << 62) {
      throw new IllegalArgumentException("QUIC error codes are 62-bit: " + code); // quiche would panic
    }
    long c = conn(ch);
    if (c == 0) {
      return ERR_DONE;
    }
    try {
      return (int) STREAM_SHUTDOWN.invokeExact(c, streamId, direction, code);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Section 4: CONNECTION_CLOSE through quiche, which keeps the closing state; returns quiche's result, or
   * {@link #ERR_DONE} when the connection is freed already.
   */
  static int close(QuicChannel ch, boolean application, long code, byte[] reason) {
    long c = conn(ch);
    if (c == 0) {
      return ERR_DONE;
    }
    io.netty.buffer.ByteBuf r = io.netty.buffer.Unpooled.directBuffer(Math.max(1, reason.length));
    try {
      r.writeBytes(reason);
      return (int) CONN_CLOSE.invokeExact(c, application, code, r.memoryAddress() + r.readerIndex(), reason.length);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      r.release();
    }
  }

  /** Puts what quiche queued on the wire (Netty does this after its own calls into quiche). */
  static void flush(QuicChannel ch) {
    if (conn(ch) == 0) {
      return;
    }
    try {
      SEND_AND_FLUSH.invokeExact((Object) ch);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Section 2: whether the peer sent STOP_SENDING for our side of {@code streamId}, as far as quiche can tell: the
   * stream's capacity is {@code QUICHE_ERR_STREAM_STOPPED}, or quiche no longer knows the stream
   * ({@code QUICHE_ERR_INVALID_STREAM_STATE}: it frees a stream once both sides are complete, and a STOP_SENDING
   * completes our side at once; the caller asks only while our side is open, which nothing else completes).
   */
  static boolean stopped(QuicChannel ch, long streamId) {
    long c = conn(ch);
    if (c == 0) {
      return false;
    }
    try {
      long cap = (long) STREAM_CAPACITY.invokeExact(c, streamId);
      return cap == ERR_STREAM_STOPPED || cap == ERR_INVALID_STREAM_STATE;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Section 3: whether the peer's side of {@code streamId} ended (FIN and every byte read or dropped, or a reset). */
  static boolean finished(QuicChannel ch, long streamId) {
    long c = conn(ch);
    if (c == 0) {
      return false;
    }
    try {
      return (boolean) STREAM_FINISHED.invokeExact(c, streamId);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException("Netty QUIC internal call failed: " + t, t);
  }
}
