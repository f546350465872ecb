package dev.braid.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.TransportRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both examples end to end over one transport, chosen by URI alone, each side with a Braid of its own, as two
 * processes would run them: a file of a few MiB of seeded random bytes arrives byte-identical, and 64 concurrent
 * requests are all answered. Seeds are printed; {@code -Dbraid.examples.seed=N} replays one.
 */
abstract class ExamplesSuite {
  static final Duration START = Duration.ofSeconds(60);
  static final Duration RUN = Duration.ofSeconds(90);

  @RegisterExtension
  final NoUncaughtExceptions noUncaughtExceptions = new NoUncaughtExceptions();

  /** The transport under test, by provider id. */
  abstract String transportId();

  /** Extra arguments that pick the transport, when its scheme alone would pick another (e.g. quic-netty). */
  List<String> transportArgs() {
    return List.of();
  }

  /** Where a test may listen with this transport: loopback, or this test's network namespace for WebRTC. */
  URI listenAddress() throws IOException {
    return TransportRegistry.load().forId(transportId()).testListenAddress();
  }

  static long seed(String what) {
    long seed = Long.getLong("braid.examples.seed", System.nanoTime());
    System.out.println("[examples] " + what + ": seed " + seed + " (replay with -Dbraid.examples.seed=" + seed + ")");
    return seed;
  }

  String[] args(String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(transportArgs());
    return all.toArray(new String[0]);
  }

  @Test
  void fileTransferDeliversAFewMiBOfRandomBytesByteIdentical(@TempDir Path tmp) throws Exception {
    long seed = seed(transportId() + " file transfer");
    Random random = new Random(seed);
    int length = 4 * 1024 * 1024 + random.nextInt(64 * 1024); // a few MiB, not a multiple of any buffer size
    Path source = Files.createDirectory(tmp.resolve("from")).resolve("payload-" + seed + ".bin");
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (OutputStream o = Files.newOutputStream(source)) {
      byte[] chunk = new byte[64 * 1024];
      for (int left = length; left > 0; left -= chunk.length) {
        random.nextBytes(chunk);
        int n = Math.min(left, chunk.length);
        o.write(chunk, 0, n);
        sha.update(chunk, 0, n);
      }
    }
    String hex = HexFormat.of().formatHex(sha.digest());
    Path inbox = Files.createDirectory(tmp.resolve("inbox"));

    try (Running receiver = Running.start("receiver", FileTransfer::run,
        args("receive", listenAddress().toString(), inbox.toString(), "--idle-timeout", "30"))) {
      URI address = receiver.awaitListening(START);
      try (Running sender = Running.start("sender", FileTransfer::run,
          args("send", address.toString(), source.toString(), "--idle-timeout", "30"))) {
        assertEquals(Exit.OK, sender.awaitExit(RUN), "sender's exit code" + sender.describe() + receiver.describe());
        assertTrue(sender.out().text().contains("sha256 " + hex + " verified by the receiver"), sender.describe());
        assertTrue(sender.err().text().contains("(100%)"), "the progress line reaches 100%" + sender.describe());
      }
      assertEquals(Exit.OK, receiver.awaitExit(RUN), "receiver's exit code" + receiver.describe());
      assertTrue(receiver.out().text().contains("(" + length + " bytes)"), receiver.describe());
      assertTrue(receiver.out().text().contains("sha256 " + hex + " verified"), receiver.describe());
    }
    Path received = inbox.resolve(source.getFileName());
    assertEquals(-1, Files.mismatch(source, received), "the received file is byte-identical to the sent one");
    try (Stream<Path> files = Files.list(inbox)) {
      assertEquals(List.of(received), files.toList(), "nothing but the file is left in the directory");
    }
  }

  @Test
  void echoServiceAnswersSixtyFourConcurrentStreamsCorrectly() throws Exception {
    long seed = seed(transportId() + " echo service");
    int streams = 64;
    try (Running server = Running.start("server", EchoService::run, args("server", listenAddress().toString()))) {
      URI address = server.awaitListening(START);
      try (Running client = Running.start("client", EchoService::run, args("client", address.toString(),
          "--streams", String.valueOf(streams), "--size", "16384", "--seed", String.valueOf(seed), "--timeout", "60"))) {
        assertEquals(Exit.OK, client.awaitExit(RUN), "client's exit code" + client.describe() + server.describe());
        String summary = client.out().text();
        assertTrue(summary.contains(streams + " requests on " + streams + " concurrent streams"), client.describe());
        assertTrue(summary.contains(streams + " answered correctly, 0 errors"), client.describe());
        assertTrue(summary.contains("latency (request sent to answer complete): p50 "), client.describe());
      }
      // The client closed its connection: the server's account of it follows.
      assertTrue(server.out().awaitLine(l -> l.endsWith(": " + streams + " streams answered, 0 failed"), RUN)
          .isPresent(), "the server answered every stream" + server.describe());
      server.stop();
      assertEquals(Exit.OK, server.awaitExit(RUN), server.describe());
      assertTrue(server.out().text().contains("server stopped"), server.describe());
    }
  }
}
