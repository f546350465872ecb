package dev.braid.conformance;

import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Rule H9, the answer's end: request/response on many streams at once, where the responder echoes each request as
 * it reads it and half-closes when the request ends. Its FIN is written after its last bytes left the transport,
 * often after the peer acknowledged them, and after the peer's FIN arrived. A transport that loses that FIN leaves
 * the requester holding the whole answer but never its end (quiche before cloudflare/quiche#2665 frees such a stream
 * when the acknowledgement of its data arrives before the FIN is sent: Netty QUIC). H8 does not meet this: its
 * responder writes nothing before its FIN.
 *
 * <p>Stochastic: the seed picks which end opens in each round and each request's length and bytes. A failure names
 * the seed, the round, the stream and the command that replays the same choices. {@code -Dbraid.h9.rounds=N}
 * (default 8) and {@code -Dbraid.h9.streams=N} (default 64 at once) change the size of a run.
 */
final class EchoAtScale {
  /** System property: how many rounds one run makes (default 4). */
  static final String ROUNDS_PROPERTY = "braid.h9.rounds";
  /** System property: how many streams each round opens at once (default 64). */
  static final String STREAMS_PROPERTY = "braid.h9.streams";
  private static final int MAX_REQUEST = 16 * 1024;

  private final long seed;
  private final ConnectionPair pair;
  private final int rounds;
  private final int streams;
  /** The responder's end of each stream, by the opener's stream id, for failure messages. */
  private final ConcurrentHashMap<Long, MuxedStream> responders = new ConcurrentHashMap<>();

  EchoAtScale(long seed, ConnectionPair pair) {
    this.seed = seed;
    this.pair = pair;
    this.rounds = Integer.getInteger(ROUNDS_PROPERTY, 8);
    this.streams = Integer.getInteger(STREAMS_PROPERTY, 64);
  }

  void run(String testClass) throws Exception {
    for (Connection c : List.of(pair.dialer(), pair.listener())) {
      c.setStreamHandler(s -> {
        responders.put(s.id(), s);
        echo(s, ByteBuffer.allocate(8192));
      });
    }
    Random r = new Random(seed);
    for (int round = 0; round < rounds; round++) {
      boolean dialerOpens = r.nextBoolean();
      Connection opener = dialerOpens ? pair.dialer() : pair.listener();
      List<MuxedStream> opened = new ArrayList<>();
      List<byte[]> requests = new ArrayList<>();
      List<CompletableFuture<byte[]>> answers = new ArrayList<>();
      List<ByteArrayOutputStream> received = new ArrayList<>();
      for (int i = 0; i < streams; i++) {
        byte[] request = new byte[1 + r.nextInt(MAX_REQUEST)];
        r.nextBytes(request);
        MuxedStream s = Kit.await(opener.openStream(), "opening stream " + i + " of round " + round);
        opened.add(s);
        requests.add(request);
        // The request and its FIN; the answer is read at the same time, as a client of a streaming service does.
        CompletableFuture<Void> sent = s.write(ByteBuffer.wrap(request)).thenCompose(v -> s.closeWrite());
        ByteArrayOutputStream into = new ByteArrayOutputStream();
        received.add(into);
        answers.add(readToEnd(s, into, ByteBuffer.allocate(8192))
            .thenCombine(sent, (answer, v) -> answer));
      }
      for (int i = 0; i < streams; i++) {
        MuxedStream s = opened.get(i);
        String where = "round " + round + " (opened by the " + (dialerOpens ? "dialer" : "listener") + "), stream "
            + i + " of " + streams + " (" + requests.get(i).length + "-byte request)";
        byte[] answer;
        try {
          answer = answers.get(i).get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          throw failure(testClass, where + ": the answer never ended within " + Kit.waitLimit().toSeconds()
              + " s; the requester has read " + received.get(i).size() + " bytes and is " + s.state() + "; the responder's end is "
              + describe(responders.get(s.id())) + " (a FIN written after the answer's bytes left the transport was "
              + "lost)");
        } catch (ExecutionException e) {
          throw failure(testClass, where + ": the exchange failed: " + e.getCause());
        }
        if (!Arrays.equals(answer, requests.get(i))) {
          throw failure(testClass, where + ": the answer has " + answer.length + " bytes, not the "
              + requests.get(i).length + " of the request, or other bytes");
        }
        StreamState end = Kit.await(s.terminated(), "the requester's end of " + where + " ending");
        if (end != StreamState.CLOSED) {
          throw failure(testClass, where + ": the requester's end ended " + end + ", not CLOSED");
        }
      }
      responders.clear();
    }
  }

  private AssertionError failure(String testClass, String what) {
    return new AssertionError("H9 with seed " + seed + ": " + what + "\nreplay the same choices: "
        + Kit.replayCommand(testClass, "H9", seed));
  }

  private static String describe(MuxedStream s) {
    return s == null ? "not accepted" : s.state().toString();
  }

  /** The responder: echoes what it reads, each write before the next read, and half-closes at the request's end. */
  private static void echo(MuxedStream s, ByteBuffer buf) {
    buf.clear();
    s.read(buf).thenCompose(n -> {
      if (n < 0) {
        return s.closeWrite().thenApply(v -> false);
      }
      buf.flip();
      return s.write(buf).thenApply(v -> true);
    }).whenComplete((more, err) -> {
      if (err != null) {
        s.reset(0); // the requester's check reports what it saw
      } else if (more) {
        echo(s, buf);
      }
    });
  }

  private static CompletableFuture<byte[]> readToEnd(MuxedStream s, ByteArrayOutputStream into, ByteBuffer buf) {
    buf.clear();
    return s.read(buf).thenCompose(n -> {
      if (n < 0) {
        return CompletableFuture.completedFuture(into.toByteArray());
      }
      into.write(buf.array(), 0, n);
      return readToEnd(s, into, buf);
    });
  }
}
