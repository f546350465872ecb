package dev.braid.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Braid;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input and hostile peers, over TCP (the checks are the examples', not the transport's): each fails with a clear
 * message and a non-zero exit code, within a bound, and leaves nothing behind.
 */
class BadInputTest {
  private static final Duration RUN = Duration.ofSeconds(60);

  @RegisterExtension
  final NoUncaughtExceptions noUncaughtExceptions = new NoUncaughtExceptions();

  private static int runToEnd(Running r) throws InterruptedException {
    try (r) {
      return r.awaitExit(RUN);
    }
  }

  /** A local TCP port with nobody listening on it (bound, then released). */
  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void sendingAMissingFileFailsWithExitCode2BeforeDialing(@TempDir Path tmp) throws Exception {
    Path missing = tmp.resolve("no-such-file.bin");
    Running sender = Running.start("sender", FileTransfer::run, "send", "tcp://127.0.0.1:9", missing.toString());
    assertEquals(Exit.USAGE, runToEnd(sender), sender.describe());
    assertTrue(sender.err().text().contains("no such file: " + missing), sender.describe());
  }

  @Test
  void sendingToAClosedPortFailsWithConnectionRefused(@TempDir Path tmp) throws Exception {
    Path file = Files.write(tmp.resolve("small.txt"), "hello".getBytes(StandardCharsets.UTF_8));
    URI nobody = URI.create("tcp://127.0.0.1:" + closedPort());
    Running sender = Running.start("sender", FileTransfer::run, "send", nobody.toString(), file.toString());
    assertEquals(Exit.FAILED, runToEnd(sender), sender.describe());
    String err = sender.err().text();
    assertTrue(err.contains("cannot connect to " + nobody), sender.describe());
    assertTrue(err.toLowerCase().contains("refused"), "names the cause" + sender.describe());
  }

  @Test
  void echoClientAgainstAClosedPortFailsWithConnectionRefused() throws Exception {
    URI nobody = URI.create("tcp://127.0.0.1:" + closedPort());
    Running client = Running.start("client", EchoService::run, "client", nobody.toString(), "--seed", "1");
    assertEquals(Exit.FAILED, runToEnd(client), client.describe());
    assertTrue(client.err().text().contains("cannot connect to " + nobody), client.describe());
    assertTrue(client.err().text().toLowerCase().contains("refused"), "names the cause" + client.describe());
  }

  @Test
  void commandLinesThatCannotRunFailWithExitCode2AndTheUsage(@TempDir Path tmp) throws Exception {
    String[][] bad = {
        {},
        {"upload", "tcp://127.0.0.1:9", "x"},
        {"send", "127.0.0.1:9", tmp.toString()},
        {"send", "nosuch://127.0.0.1:9", Files.writeString(tmp.resolve("f"), "x").toString()},
        {"receive", "tcp://127.0.0.1:0", tmp.resolve("no-such-dir").toString()},
        {"send", "tcp://127.0.0.1:9", tmp.toString()},
        {"send", "tcp://127.0.0.1:9", "f", "--idle-timeout", "soon"},
    };
    for (String[] args : bad) {
      Running r = Running.start("FileTransfer", FileTransfer::run, args);
      assertEquals(Exit.USAGE, runToEnd(r), r.describe());
      assertTrue(r.err().text().startsWith("FileTransfer: "), r.describe());
    }
    Running unknownScheme = Running.start("client", EchoService::run, "client", "nosuch://127.0.0.1:9");
    assertEquals(Exit.USAGE, runToEnd(unknownScheme), unknownScheme.describe());
    assertTrue(unknownScheme.err().text().contains("available schemes"), unknownScheme.describe());
    Running badCount = Running.start("client", EchoService::run, "client", "tcp://127.0.0.1:9", "--streams", "0");
    assertEquals(Exit.USAGE, runToEnd(badCount), badCount.describe());
  }

  @Test
  void aReceiverRefusesAFileItAlreadyHasAndTheSenderSaysWhy(@TempDir Path tmp) throws Exception {
    Path inbox = Files.createDirectory(tmp.resolve("inbox"));
    byte[] original = "the receiver's own file".getBytes(StandardCharsets.UTF_8);
    Files.write(inbox.resolve("report.txt"), original);
    byte[] payload = new byte[2 * 1024 * 1024];
    new Random(7).nextBytes(payload);
    Path source = Files.write(Files.createDirectory(tmp.resolve("out")).resolve("report.txt"), payload);

    try (Running receiver = Running.start("receiver", FileTransfer::run, "receive", "tcp://127.0.0.1:0", inbox.toString())) {
      URI address = receiver.awaitListening(RUN);
      Running sender = Running.start("sender", FileTransfer::run, "send", address.toString(), source.toString());
      assertEquals(Exit.FAILED, runToEnd(sender), sender.describe() + receiver.describe());
      assertTrue(sender.err().text().contains("the peer reset the stream (code 2: the receiver already has a file of "
          + "that name)"), sender.describe());
      assertEquals(Exit.FAILED, receiver.awaitExit(RUN), receiver.describe());
      assertTrue(receiver.err().text().contains("refused report.txt: it already exists"), receiver.describe());
    }
    assertArrayEquals(original, Files.readAllBytes(inbox.resolve("report.txt")), "the existing file is untouched");
    try (Stream<Path> files = Files.list(inbox)) {
      assertEquals(List.of(inbox.resolve("report.txt")), files.toList(), "no partial file is left");
    }
  }

  @Test
  void aSenderSeesAResetByThePeerMidTransfer(@TempDir Path tmp) throws Exception {
    byte[] payload = new byte[8 * 1024 * 1024]; // far more than the flow-control windows: the sender is still writing
    new Random(11).nextBytes(payload);
    Path source = Files.write(tmp.resolve("big.bin"), payload);
    try (Braid braid = Braid.create(); Listener listener = braid.listen(URI.create("tcp://127.0.0.1:0"))) {
      Running sender = Running.start("sender", FileTransfer::run, "send", listener.address().toString(), source.toString());
      // A receiver that reads 100 KiB and then aborts with its own code.
      Connection c = listener.accept().get(RUN.toSeconds(), TimeUnit.SECONDS);
      MuxedStream stream = c.acceptStream().get(RUN.toSeconds(), TimeUnit.SECONDS);
      assertEquals(100 * 1024, stream.inputStream().readNBytes(100 * 1024).length);
      stream.reset(77);
      assertEquals(Exit.FAILED, runToEnd(sender), sender.describe());
      assertTrue(sender.err().text().contains("failed: the peer reset the stream (code 77)"), sender.describe());
    }
  }

  @Test
  void aReceiverResetsAStreamThatIsNotAFileTransfer(@TempDir Path tmp) throws Exception {
    try (Running receiver = Running.start("receiver", FileTransfer::run, "receive", "tcp://127.0.0.1:0", tmp.toString());
        Braid braid = Braid.create()) {
      URI address = receiver.awaitListening(RUN);
      Connection c = braid.dial(address).get(RUN.toSeconds(), TimeUnit.SECONDS);
      MuxedStream s = c.openStream().get(RUN.toSeconds(), TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))
          .thenCompose(v -> s.closeWrite()).get(RUN.toSeconds(), TimeUnit.SECONDS);
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> s.read(ByteBuffer.allocate(16)).get(RUN.toSeconds(), TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof StreamResetException, "reset: " + e.getCause());
      assertEquals(FileTransfer.CODE_BAD_HEADER, ((StreamResetException) e.getCause()).code());
      c.close();
      assertEquals(Exit.FAILED, receiver.awaitExit(RUN), receiver.describe());
      assertTrue(receiver.err().text().contains("does not start with a FileTransfer header"), receiver.describe());
      try (Stream<Path> files = Files.list(tmp)) {
        assertEquals(0, files.count(), "nothing was stored");
      }
    }
  }
}
