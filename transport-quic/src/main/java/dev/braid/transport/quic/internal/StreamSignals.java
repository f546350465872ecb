package dev.braid.transport.quic.internal;

/**
 * What kwik's receive and send paths told us about one QUIC stream, written by the {@link FrameRouter} on kwik's
 * threads and read by the stream's pumps. It exists before the Braid stream does: a peer's first STREAM frame
 * is seen here before kwik's (asynchronous) new-stream callback runs.
 *
 * <p><b>Thread safety.</b> Every field is volatile; each has a single writer thread (kwik's receiver thread
 * for the {@code rx*} fields, its sender thread for {@code sentUpTo}).
 */
final class StreamSignals {
  final int streamId;
  /** Highest stream offset the peer sent so far (end of the highest STREAM frame). */
  volatile long rxHighestUpTo;
  /** The final size once a STREAM frame with FIN arrived, else -1. */
  volatile long rxFinalSize = -1;
  /** The application error code of the peer's RESET_STREAM, else -1. */
  volatile long rxResetCode = -1;
  /** Counts RESET_STREAM frames with a new code (a peer may follow kwik's automatic answer with its own reset). */
  volatile int rxResetSeq;
  /** The final size of the first RESET_STREAM kwik sent for this stream, else -1. */
  volatile long sentResetFinalSize = -1;
  /** The application error code of the peer's STOP_SENDING, else -1. */
  volatile long rxStopSendingCode = -1;
  /** Highest stream offset kwik has put on the wire so far. */
  volatile long sentUpTo;
  /** Whether kwik has sent our FIN (at least once). */
  volatile boolean finSent;
  /** The Braid stream, once it exists. */
  volatile QuicMuxedStream stream;

  StreamSignals(int streamId) {
    this.streamId = streamId;
  }

  void pokeReceiver() {
    QuicMuxedStream s = stream;
    if (s != null) {
      s.pokeReceiver();
    }
  }

  /** A RESET_STREAM for this stream is about to be processed by kwik (see {@link Kwik0108.GuardedRead}). */
  void watchForStrandedRead() {
    QuicMuxedStream s = stream;
    if (s != null) {
      s.watchForStrandedRead();
    }
  }

  void pokeSender() {
    QuicMuxedStream s = stream;
    if (s != null) {
      s.pokeSender();
    }
  }
}
