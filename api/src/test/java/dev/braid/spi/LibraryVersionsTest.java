package dev.braid.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TransportProvider#libraryVersions()} and its helper {@link TransportProvider#mavenVersion}. */
class LibraryVersionsTest {
  @TempDir
  Path dir;

  /** A provider written before the method existed: it compiles and reports nothing. */
  static final class OldProvider implements TransportProvider {
    @Override public String id() { return "old"; }
    @Override public Set<String> schemes() { return Set.of("old"); }
    @Override public boolean isAvailable() { return true; }
    @Override public Throwable unavailabilityCause() { return null; }
    @Override public Set<Capability> capabilities() { return Set.of(); }
    @Override public URI testListenAddress() { return URI.create("old://x:0"); }
    @Override public Transport create(TransportOptions options) { throw new UnsupportedOperationException(); }
  }

  /** A class with nothing to load but itself, packed into a jar of its own below. */
  static final class Marker {}

  @Test
  void theDefaultReportsNothing() {
    assertEquals(java.util.Map.of(), new OldProvider().libraryVersions());
  }

  @Test
  void aJarsVersionIsReadFromItsMavenMetadata() {
    String v = TransportProvider.mavenVersion(Test.class, "org.junit.jupiter", "junit-jupiter-api");
    assertTrue(v.matches("5\\.\\d+\\.\\d+.*"), v);
  }

  @Test
  void aClassDirectoryHasNoVersionAndSaysSo() {
    String v = TransportProvider.mavenVersion(OldProvider.class, "dev.braid", "braid-api");
    assertTrue(v.startsWith("unknown (not in a jar: file:") && v.endsWith("test-classes)"), v);
  }

  @Test
  void aJarWithoutThatArtifactsMetadataSaysWhichJarItRead() throws Exception {
    Path jar = dir.resolve("bare.jar");
    String cls = Marker.class.getName().replace('.', '/') + ".class";
    try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(jar));
        InputStream in = Marker.class.getClassLoader().getResourceAsStream(cls)) {
      j.putNextEntry(new JarEntry(cls));
      in.transferTo(j);
    }
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      Class<?> c = Class.forName(Marker.class.getName(), false, loader);
      String v = TransportProvider.mavenVersion(c, "com.example", "bare");
      assertEquals("unknown (no META-INF/maven/com.example/bare/pom.properties in " + jar.toUri().toURL() + ")", v);
    }
  }
}
