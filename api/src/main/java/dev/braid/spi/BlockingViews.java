package dev.braid.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The blocking views of a stream ({@link dev.braid.MuxedStream#inputStream()} and
 * {@link dev.braid.MuxedStream#outputStream()}), built on its asynchronous core alone. A blocked caller is
 * woken directly by the thread that completes its future (see {@link BraidFuture}): no thread hop.
 *
 * <p><b>Thread safety.</b> Each view serialises its callers; interruption follows {@code java.nio}'s
 * interruptible channels (an interrupted write resets the stream; an interrupted read is cancelled).
 */
final class BlockingViews {
  private BlockingViews() {}

  static <T> T await(CompletableFuture<T> f) throws IOException, InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      throw unwrap(e.getCause());
    }
  }

  private static IOException unwrap(Throwable c) {
    if (c instanceof IOException io) {
      return io;
    }
    if (c instanceof RuntimeException r) {
      throw r;
    }
    return new IOException(c);
  }

  /** The read direction as an {@link InputStream}. */
  static final class Input extends InputStream {
    private final AbstractMuxedStream stream;

    Input(AbstractMuxedStream stream) {
      this.stream = stream;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      CompletableFuture<Integer> f = stream.read(ByteBuffer.wrap(b, off, len));
      try {
        return await(f);
      } catch (InterruptedException e) {
        if (stream.cancelRead(f)) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while reading " + stream);
        }
        // The read completed while we were interrupted: return its result, keep the flag.
        try {
          return f.join();
        } catch (CompletionException ce) {
          throw unwrap(ce.getCause());
        } finally {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public int available() {
      return stream.bufferedInboundBytes();
    }

    @Override
    public void close() {
      stream.closeRead();
    }
  }

  /** The write direction as an {@link OutputStream}. */
  static final class Output extends OutputStream {
    private final AbstractMuxedStream stream;

    Output(AbstractMuxedStream stream) {
      this.stream = stream;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return;
      }
      waitFor(stream.write(ByteBuffer.wrap(b, off, len)), "writing");
    }

    @Override
    public void close() throws IOException {
      waitFor(stream.closeWrite(), "closing the write direction of");
    }

    private void waitFor(CompletableFuture<Void> f, String what) throws IOException {
      try {
        await(f);
      } catch (InterruptedException e) {
        // As with java.nio's interruptible channels: the stream's state is unknown now, so it is aborted.
        stream.reset(0);
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while " + what + " " + stream + "; the stream was reset");
      }
    }
  }
}
