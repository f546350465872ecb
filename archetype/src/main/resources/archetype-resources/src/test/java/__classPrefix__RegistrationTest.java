package ${package};

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.TransportRegistry;
import dev.braid.spi.TransportProvider;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The provider is registered both ways {@link TransportProvider} asks for, and Braid finds it: {@code provides} in
 * {@code module-info.java} for the module path, {@code META-INF/services} for the class path.
 */
class ${classPrefix}RegistrationTest {
  private static final String SERVICE = "META-INF/services/" + TransportProvider.class.getName();

  @Test
  void braidFindsTheProvider() throws Exception {
    TransportRegistry registry = TransportRegistry.load();
    TransportProvider p = registry.forId(${classPrefix}TransportProvider.ID);
    assertInstanceOf(${classPrefix}TransportProvider.class, p);
    assertEquals(List.of(p), registry.claimants("${scheme}"), "the one provider of ${scheme}://");
  }

  @Test
  void theModuleDescriptorProvidesIt() throws Exception {
    Path classes = Path.of(${classPrefix}TransportProvider.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI());
    ModuleDescriptor module;
    try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
      module = ModuleDescriptor.read(in);
    }
    assertTrue(module.provides().stream().anyMatch(p -> p.service().equals(TransportProvider.class.getName())
        && p.providers().equals(List.of(${classPrefix}TransportProvider.class.getName()))),
        "module-info.java: provides dev.braid.spi.TransportProvider with " + ${classPrefix}TransportProvider.class.getName()
        + "; found " + module.provides());
  }

  @Test
  void theServiceFileListsIt() throws Exception {
    Path classes = Path.of(${classPrefix}TransportProvider.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI());
    List<String> lines = Files.readAllLines(classes.resolve(SERVICE), StandardCharsets.UTF_8).stream()
        .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    assertEquals(List.of(${classPrefix}TransportProvider.class.getName()), lines, SERVICE);
  }
}
