package dev.braid.transport.quic.internal;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import tech.kwik.core.common.EncryptionLevel;
import tech.kwik.core.frame.AckFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.ResetStreamFrame;
import tech.kwik.core.frame.StopSendingFrame;
import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.packet.QuicPacket;

/**
 * What kwik's packets say about one connection's streams. {@link QuicFrameTap} hands every parsed and every sent packet
 * of the connection here; each STREAM, RESET_STREAM and STOP_SENDING frame updates its stream's {@link StreamSignals}
 * and pokes the stream's pumps, each ACK frame and ack-eliciting packet feeds the {@link Kwik0108.AckWatchdog}. kwik
 * keeps the code of a received RESET_STREAM to itself ({@code StreamInputStreamImpl.terminate} drops it): here it is
 * read from the frame, before kwik processes it.
 *
 * <p>A peer's stream gets its signals on its first frame, before kwik's (asynchronous) new-stream callback runs; an
 * entry stays until its stream lets it go ({@link #forget}) or the connection ends ({@link #clear}).
 *
 * <p><b>Threads.</b> {@link #received} runs on kwik's receiver thread for the connection (the only one touching
 * {@code highestPeerStreamId}), {@link #sent} on its sender thread; the map is concurrent.
 */
final class FrameRouter {
  private final boolean dialer;
  private final int peerCredit;
  private final Kwik0108.AckWatchdog acks;
  private final Map<Integer, StreamSignals> signals = new ConcurrentHashMap<>();
  /** {@link #whenEmpty()} futures not completed yet (tests). */
  private final List<CompletableFuture<Void>> emptyWaiters = new CopyOnWriteArrayList<>();
  private int highestPeerStreamId = -1;

  FrameRouter(boolean dialer, int peerCredit, Kwik0108.AckWatchdog acks) {
    this.dialer = dialer;
    this.peerCredit = peerCredit;
    this.acks = acks;
  }

  /** kwik parsed {@code packet} and is about to process it (its receiver thread). */
  void received(QuicPacket packet) {
    EncryptionLevel level = packet.getEncryptionLevel();
    if (level != EncryptionLevel.App && level != EncryptionLevel.ZeroRTT) {
      return;
    }
    for (QuicFrame f : packet.getFrames()) {
      if (f instanceof AckFrame ack) {
        acks.acked(ack.getLargestAcknowledged());
      } else if (f instanceof StreamFrame sf) {
        StreamSignals sig = signalsFor(sf.getStreamId());
        if (sig != null) {
          long upTo = sf.getUpToOffset();
          if (upTo > sig.rxHighestUpTo) {
            sig.rxHighestUpTo = upTo;
          }
          if (sf.isFinal() && sig.rxFinalSize < 0) {
            sig.rxFinalSize = upTo;
          }
          sig.pokeReceiver();
        }
      } else if (f instanceof ResetStreamFrame rf) {
        StreamSignals sig = signals.get(rf.getStreamId());
        if (sig != null && (sig.rxResetSeq == 0 || sig.rxResetCode != rf.getErrorCode())) {
          sig.rxResetCode = rf.getErrorCode();
          sig.rxResetSeq++;
          sig.pokeReceiver();
          sig.watchForStrandedRead(); // kwik discards the stream's bytes right after this hook
        }
      } else if (f instanceof StopSendingFrame ss) {
        StreamSignals sig = signals.get(ss.getStreamId());
        if (sig != null && sig.rxStopSendingCode < 0) {
          sig.rxStopSendingCode = ss.getErrorCode();
          sig.pokeReceiver();
        }
      }
    }
  }

  /** kwik sent {@code packet} (its sender thread). */
  void sent(QuicPacket packet) {
    if (packet.getEncryptionLevel() == EncryptionLevel.App && packet.isAckEliciting() && packet.getPacketNumber() != null) {
      acks.sent(packet.getPacketNumber());
    }
    for (QuicFrame f : packet.getFrames()) {
      if (f instanceof ResetStreamFrame rf) {
        StreamSignals sig = signals.get(rf.getStreamId());
        if (sig != null && sig.sentResetFinalSize < 0) {
          sig.sentResetFinalSize = rf.getFinalSize();
        }
      } else if (f instanceof StreamFrame sf) {
        StreamSignals sig = signals.get(sf.getStreamId());
        if (sig == null) {
          continue;
        }
        boolean moved = false;
        if (sf.isFinal() && !sig.finSent) {
          sig.finSent = true;
          moved = true;
        }
        long upTo = sf.getUpToOffset();
        if (upTo > sig.sentUpTo) {
          sig.sentUpTo = upTo;
          moved = true;
        }
        if (moved) {
          sig.pokeSender();
        }
      }
    }
  }

  /**
   * The signals of {@code streamId}; for a peer's new bidirectional stream (and every lower one of its kind not seen
   * yet) they are created, up to the stream credit we granted plus a little.
   */
  private StreamSignals signalsFor(int streamId) {
    StreamSignals sig = signals.get(streamId);
    if (sig != null || !isPeerInitiatedBidi(streamId) || streamId <= highestPeerStreamId) {
      return sig;
    }
    int first = highestPeerStreamId < 0 ? firstPeerStreamId() : highestPeerStreamId + 4;
    if ((streamId - first) / 4 > peerCredit + 16) {
      return null; // beyond any limit we granted: kwik closes the connection with STREAM_LIMIT_ERROR
    }
    for (int id = first; id <= streamId; id += 4) {
      signals.putIfAbsent(id, new StreamSignals(id));
    }
    highestPeerStreamId = streamId;
    return signals.get(streamId);
  }

  private boolean isPeerInitiatedBidi(int streamId) {
    return (streamId & 0x2) == 0 && (streamId & 0x1) == (dialer ? 1 : 0);
  }

  /** The id of the peer's first bidirectional stream. */
  int firstPeerStreamId() {
    return dialer ? 1 : 0;
  }

  /** A stream we opened. */
  StreamSignals forLocalStream(int streamId) {
    StreamSignals sig = new StreamSignals(streamId);
    signals.put(streamId, sig);
    return sig;
  }

  /** A stream the peer opened (usually known since its first frame). */
  StreamSignals forPeerStream(int streamId) {
    return signals.computeIfAbsent(streamId, StreamSignals::new);
  }

  /**
   * A peer stream kwik created before the handshake ended (Kwik0108 section 10): its signals, with what the tap saw of
   * it meanwhile ({@code seen}, may be null). On the receiver thread.
   */
  StreamSignals adoptEarly(int streamId, StreamSignals seen) {
    StreamSignals sig = signalsFor(streamId);
    if (sig != null && seen != null) {
      sig.rxHighestUpTo = Math.max(sig.rxHighestUpTo, seen.rxHighestUpTo);
      if (seen.rxFinalSize >= 0) {
        sig.rxFinalSize = seen.rxFinalSize;
      }
    }
    return sig;
  }

  void forget(StreamSignals sig) {
    if (signals.remove(sig.streamId, sig) && signals.isEmpty()) {
      notifyIfEmpty();
    }
  }

  void clear() {
    signals.clear();
  }

  /** Streams the tap still routes frames to (diagnostics, tests). */
  int size() {
    return signals.size();
  }

  /** Completes once the tap routes frames to no stream (tests: every stream let go of what it held). */
  CompletableFuture<Void> whenEmpty() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    emptyWaiters.add(f);
    notifyIfEmpty(); // after adding: an entry removed meanwhile cannot be missed
    return f;
  }

  private void notifyIfEmpty() {
    if (signals.isEmpty()) {
      for (CompletableFuture<Void> f : emptyWaiters) {
        emptyWaiters.remove(f);
        f.complete(null);
      }
    }
  }
}
