package dev.braid.transport.quic.internal;

import java.lang.reflect.Field;
import tech.kwik.core.QuicStream;
import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.impl.Version;
import tech.kwik.core.stream.SendBuffer;

/**
 * kwik's per-stream {@link SendBuffer} with its one consumer and its {@link #clear()} made mutually exclusive: the
 * workaround of {@link Kwik0108} section 5 for kwik's own resets, which Braid cannot move onto kwik's sender thread.
 *
 * <p>kwik's {@code SendBuffer.getStreamFrame} (sender thread) checks that its queue is not empty and then peeks it;
 * {@code clear()}, called by {@code StreamOutputStreamImpl.reset} on whatever thread resets the stream, can empty the
 * queue in between, and the peek returns {@code null}: the sender thread dies with a {@code NullPointerException} and
 * kwik aborts the connection. kwik resets a stream itself on its receiver thread when a peer's STOP_SENDING arrives,
 * so a peer that stops reading a stream while its bytes are still being sent could kill the connection.
 *
 * <p>Writers ({@code write}, {@code close}) only append to kwik's concurrent queue and stay lock-free; only the taking
 * of a frame and the clear are serialized, on this object's monitor, which is private to this package. The clear waits
 * at most for one frame's assembly.
 *
 * <p>{@link #install} puts one into a kwik stream's output before anything is written to it, by reflection: on the
 * class path always; on the module path only if kwik opens {@code tech.kwik.core.stream} to Braid's QUIC module
 * ({@code --add-opens tech.kwik.core/tech.kwik.core.stream=dev.braid.transport.quic}). Without it Braid logs one warning
 * and runs with kwik's own buffer (the fault is then as described in section 9: the connection ends FAILED).
 */
final class LockedSendBuffer extends SendBuffer {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.kwik");
  private static final Field SEND_BUFFER = sendBufferField();

  LockedSendBuffer(int maxSize) {
    super(maxSize);
  }

  @Override
  public StreamFrame getStreamFrame(Version quicVersion, int streamId, long currentOffset, int maxBytesToSend) {
    synchronized (this) {
      return super.getStreamFrame(quicVersion, streamId, currentOffset, maxBytesToSend);
    }
  }

  @Override
  public void clear() {
    synchronized (this) {
      super.clear();
    }
  }

  /** Whether streams get a locked buffer in this JVM (reflection into kwik is allowed). */
  static boolean installable() {
    return SEND_BUFFER != null;
  }

  /**
   * Replaces the send buffer of {@code stream}'s output with a locked one of the same size. Call it before anything is
   * written to the stream (kwik's buffer is then empty and no frame is being taken from it); the first write
   * publishes the new buffer to kwik's sender thread through kwik's send queue.
   *
   * @return whether the stream now has a locked buffer
   */
  static boolean install(QuicStream stream) {
    if (SEND_BUFFER == null) {
      return false;
    }
    Object output = stream.getOutputStream();
    if (!SEND_BUFFER.getDeclaringClass().isInstance(output)) {
      return false; // kwik's null output of a unidirectional peer stream: nothing is ever sent
    }
    try {
      SendBuffer original = (SendBuffer) SEND_BUFFER.get(output);
      if (original instanceof LockedSendBuffer) {
        return true;
      }
      if (!original.isEmpty()) {
        throw new IllegalStateException("kwik's send buffer of " + stream + " already holds bytes");
      }
      SEND_BUFFER.set(output, new LockedSendBuffer(original.getMaxSize()));
      return true;
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("kwik's send buffer became inaccessible", e);
    }
  }

  /** Whether {@code stream}'s output has a locked buffer (tests). */
  static boolean isInstalled(QuicStream stream) {
    try {
      return SEND_BUFFER != null && SEND_BUFFER.get(stream.getOutputStream()) instanceof LockedSendBuffer;
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Field sendBufferField() {
    try {
      Class<?> impl = Class.forName("tech.kwik.core.stream.StreamOutputStreamImpl");
      Field field = impl.getDeclaredField("sendBuffer");
      field.setAccessible(true);
      return field;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "kwik's stream send buffers stay unlocked: a peer's STOP_SENDING that arrives"
          + " while a stream's bytes are being sent can abort the connection (kwik 0.10.8 fault, README). On the module"
          + " path, add --add-opens tech.kwik.core/tech.kwik.core.stream=dev.braid.transport.quic. Cause: " + e);
      return null;
    }
  }
}
