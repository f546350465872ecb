package dev.braid.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/** Test transports packed as an outside author ships one: a jar holding the provider and its service registration. */
final class ProviderJars {
  private ProviderJars() {}

  /** A class loader over a new jar in {@code dir} holding only {@code provider} and its service registration. */
  static ClassLoader loaderWith(Path dir, Class<?> provider) throws IOException {
    Path jar = dir.resolve(provider.getSimpleName() + ".jar");
    String cls = provider.getName().replace('.', '/') + ".class";
    try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(jar));
        InputStream in = provider.getClassLoader().getResourceAsStream(cls)) {
      j.putNextEntry(new JarEntry(cls));
      in.transferTo(j);
      j.putNextEntry(new JarEntry("META-INF/services/dev.braid.spi.TransportProvider"));
      j.write((provider.getName() + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return new URLClassLoader(new URL[] {jar.toUri().toURL()}, ProviderJars.class.getClassLoader());
  }
}
