package dev.braid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.cli.thirdparty.ThirdPartyTransportProvider;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  @TempDir
  Path tmp;

  private record Run(int status, String out, String err) {}

  private Run run(ClassLoader loader, String... args) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), loader);
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A jar holding only the third-party provider and its service registration, as an outside author ships it. */
  private ClassLoader withThirdPartyJar() throws Exception {
    Path jar = tmp.resolve("third-party-transport.jar");
    String cls = ThirdPartyTransportProvider.class.getName().replace('.', '/') + ".class";
    try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(jar));
        InputStream in = ThirdPartyTransportProvider.class.getClassLoader().getResourceAsStream(cls)) {
      j.putNextEntry(new JarEntry(cls));
      in.transferTo(j);
      j.putNextEntry(new JarEntry("META-INF/services/dev.braid.spi.TransportProvider"));
      j.write((ThirdPartyTransportProvider.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return new URLClassLoader(new URL[] {jar.toUri().toURL()}, MainTest.class.getClassLoader());
  }

  @Test
  void aTransportJarOnTheClassPathIsFoundAndTestedWithoutCodeChanges() throws Exception {
    ClassLoader loader = withThirdPartyJar();
    Run list = run(loader, "transports");
    assertEquals(0, list.status());
    assertTrue(list.out().contains("third-party"), list.out());
    assertTrue(list.out().contains("mem"), list.out());

    Run kit = run(loader, "conformance", "--transport", "third-party", "--reports", tmp.resolve("r").toString());
    assertEquals(0, kit.status(), kit.out() + kit.err());
    assertTrue(kit.out().contains("third-party"), kit.out());
    assertTrue(kit.out().matches("(?s).*third-party\\s+\\d+ passed, 0 failed, \\d+ skipped.*"), kit.out());
    // Capabilities it does not declare become skips with the reason, never silent passes.
    assertTrue(kit.out().contains("does not declare capability STOP_SENDING"), kit.out());
    String md = Files.readString(tmp.resolve("r/conformance.md"));
    assertTrue(md.contains("| H6 |") && md.contains("skip"), md);
    assertTrue(Files.exists(tmp.resolve("r/conformance.html")));
    assertTrue(Files.list(tmp.resolve("r/junit/third-party")).findAny().isPresent(), "JUnit XML written");
  }

  @Test
  void unknownCommandsAndTransportsAreUsageErrors() throws Exception {
    assertEquals(2, run(getClass().getClassLoader(), "frobnicate").status());
    Run r = run(getClass().getClassLoader(), "conformance", "--transport", "nope");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("no transport with id 'nope'"), r.err());
  }

  @Test
  void echoClientAndServerTalkOverAnyTransport() throws Exception {
    ClassLoader loader = getClass().getClassLoader();
    Thread server = new Thread(() -> {
      try {
        run(loader, "echo-server", "mem://echo:41999");
      } catch (Exception e) {
        // interrupted at the end of the test
      }
    }, "echo-server");
    server.setDaemon(true);
    server.start();
    Run r = null;
    for (int i = 0; i < 100; i++) {
      r = run(loader, "echo-client", "mem://echo:41999", "hello braid");
      if (r.status() == 0) {
        break;
      }
      Thread.sleep(50);
    }
    assertEquals(0, r.status(), r.out() + r.err());
    assertEquals("hello braid\n", r.out());
  }

  @Test
  void benchRendersRatiosAsMarkdownAndSvg() {
    java.util.List<Bench.Row> rows = java.util.List.of(
        new Bench.Row("tcp", "throughput, 1 stream", 900, "raw", 1800, "MB/s", true),
        new Bench.Row("tcp", "round trip", 60, "raw", 30, "µs", false));
    String md = Bench.markdown(rows, Bench.Sizes.of(true));
    assertTrue(md.contains("| tcp | throughput, 1 stream | 900.0 MB/s | raw | 1800.0 MB/s | 0.50 (higher is better) |"), md);
    String svg = Bench.svg(rows);
    assertTrue(svg.startsWith("<svg") && svg.contains("0.50") && svg.contains("2.00"), svg);
  }

  static void unused(OutputStream o) {}
}
