package dev.braid.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Rules on every Braid module descriptor found on the class path: {@code .internal} packages are never
 * exported, transports never require each other, the API requires nothing but the JDK, and every
 * transport provides a {@code TransportProvider}.
 */
class ModuleRulesTest {

  private static List<ModuleDescriptor> braidModules() throws Exception {
    List<ModuleDescriptor> found = new ArrayList<>();
    for (URL url : Collections.list(ModuleRulesTest.class.getClassLoader().getResources("module-info.class"))) {
      try (InputStream in = url.openStream()) {
        ModuleDescriptor d = ModuleDescriptor.read(in);
        if (d.name().startsWith("dev.braid")) {
          found.add(d);
        }
      }
    }
    return found;
  }

  @Test
  void internalPackagesAreNeverExported() throws Exception {
    List<ModuleDescriptor> modules = braidModules();
    assertTrue(modules.stream().anyMatch(m -> m.name().equals("dev.braid.api")), "api module found: " + modules);
    for (ModuleDescriptor m : modules) {
      for (ModuleDescriptor.Exports e : m.exports()) {
        assertFalse(e.source().contains(".internal"), m.name() + " exports " + e.source());
      }
    }
  }

  @Test
  void transportsNeverRequireEachOtherAndProvideAProvider() throws Exception {
    int transports = 0;
    for (ModuleDescriptor m : braidModules()) {
      if (!m.name().startsWith("dev.braid.transport.")) {
        continue;
      }
      transports++;
      for (ModuleDescriptor.Requires r : m.requires()) {
        assertFalse(r.name().startsWith("dev.braid.transport."), m.name() + " requires " + r.name());
      }
      assertTrue(m.provides().stream().anyMatch(p -> p.service().equals("dev.braid.spi.TransportProvider")),
          m.name() + " provides no TransportProvider");
    }
    assertTrue(transports >= 3, "the three bundled transports are on the class path");
  }

  @Test
  void theApiRequiresOnlyTheJdk() throws Exception {
    ModuleDescriptor api = braidModules().stream().filter(m -> m.name().equals("dev.braid.api")).findFirst().orElseThrow();
    for (ModuleDescriptor.Requires r : api.requires()) {
      assertTrue(r.name().startsWith("java.") || r.name().startsWith("jdk."), "dev.braid.api requires " + r.name());
    }
  }
}
