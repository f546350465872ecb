package dev.braid.transport.webrtc.internal;

import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Batching of a stream's records into data channel messages: records are packed into as few messages (of at most
 * 16 KiB) as their order allows. While the outbox is corked (a received message is being processed), what the stream
 * sends (a {@code FIN_ACK}, a window update, and whatever the application answers synchronously) waits and goes out
 * together when it is uncorked; a write's last record is held ({@link #startHold()}) until the connection's executor
 * gets to the stream (a thread hop) for what the caller sends right after the write completes, typically
 * {@code closeWrite()}'s {@code FIN}, which sends at once. Fewer messages cost less on the wire, and webrtc-java
 * 0.14.0 leaks two JNI local references (88 bytes of heap, until its factory is disposed) for every message a peer
 * receives: an echoed stream costs 3 to 4 messages instead of 6.
 *
 * <p><b>Thread safety.</b> Not thread-safe: guarded by the owning {@link StreamSender}'s lock.
 */
final class Outbox {
  private static final System.Logger LOG = System.getLogger(Outbox.class.getName());

  private final Object owner; // the stream, for messages
  private final RTCDataChannel channel;
  private int corks; // while > 0, records are held in records (at most 16 KiB, one message)
  private boolean holding; // a write's records wait for a FIN (or more) to share their message
  private long holdGeneration;
  private List<byte[]> records;
  private int bytes;
  private boolean closed;

  Outbox(Object owner, RTCDataChannel channel) {
    this.owner = owner;
    this.channel = channel;
  }

  /** Sends {@code record} now, or holds it while corked; fails once the channel is closed. */
  void send(byte[] record) throws IOException {
    if (closed) {
      throw new IOException("webrtc: the data channel of " + owner + " is closed");
    }
    if (corks > 0) {
      if (bytes + record.length > WebRtcFraming.MAX_ENCODED) {
        flush(); // a full message: it cannot take this record too
      }
      if (records == null) {
        records = new ArrayList<>(4);
      }
      records.add(record);
      bytes += record.length;
      return;
    }
    sendMessage(record);
  }

  /** Bytes held. */
  int bytes() {
    return bytes;
  }

  void cork() {
    corks++;
  }

  void uncork() {
    if (--corks == 0) {
      flush();
    }
  }

  /**
   * Starts holding a write's records, unless a hold runs already; returns its generation (for {@link #endHold(long)})
   * or 0.
   */
  long startHold() {
    if (holding) {
      return 0;
    }
    holding = true;
    corks++;
    return ++holdGeneration;
  }

  /** Ends the hold of that generation, if it still runs. */
  void endHold(long generation) {
    if (holding && holdGeneration == generation) {
      endHold();
    }
  }

  /** Ends the running hold, if any: what it held goes out now (unless another cork holds it). */
  void endHold() {
    if (holding) {
      holding = false;
      uncork();
    }
  }

  /** Sends the held records (at most 16 KiB) as one data channel message. */
  void flush() {
    List<byte[]> held = records;
    if (held == null) {
      return;
    }
    int size = bytes;
    records = null;
    bytes = 0;
    if (closed) {
      return;
    }
    byte[] message = held.get(0);
    if (held.size() > 1) {
      message = new byte[size];
      int p = 0;
      for (byte[] r : held) {
        System.arraycopy(r, 0, message, p, r.length);
        p += r.length;
      }
    }
    try {
      sendMessage(message);
    } catch (IOException e) {
      // The channel is going away; the stream ends through its state change (or the connection's end).
      LOG.log(System.Logger.Level.DEBUG, "webrtc: could not send held records on {0}: {1}", owner, e.getMessage());
    }
  }

  /** The channel is closing or gone: nothing more is sent, and what is held is dropped. */
  void close() {
    closed = true;
    records = null;
    bytes = 0;
  }

  private void sendMessage(byte[] message) throws IOException {
    try {
      // webrtc-java sends the whole backing array: the message is an exact-size array.
      channel.send(new RTCDataChannelBuffer(ByteBuffer.wrap(message), true));
    } catch (Exception e) {
      throw new IOException("webrtc: send on the data channel of " + owner + " failed: " + e.getMessage(), e);
    }
  }
}
