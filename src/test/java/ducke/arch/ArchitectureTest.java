package ducke.arch;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** The layout of docs/conventions.md, enforced: a pure core, and Hazelcast only behind cluster/. */
@AnalyzeClasses(packages = "ducke", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule coreIsPure = noClasses().that().resideInAPackage("ducke.core..")
            .should().dependOnClassesThat().resideInAnyPackage(
                    "com.hazelcast..", "org.glassfish.jersey..", "jakarta.ws.rs..", "org.eclipse.jetty..",
                    "org.jdbi..", "io.dropwizard..", "jakarta.servlet..", "io.prometheus..", "com.codahale..")
            .as("core/ imports no Hazelcast, Jersey, JAX-RS, Jetty, servlet, JDBI, Dropwizard or metrics types");

    @ArchTest
    static final ArchRule coreDependsOnNothingOutsideCore = noClasses().that().resideInAPackage("ducke.core..")
            .should().dependOnClassesThat().resideInAnyPackage(
                    "ducke.api..", "ducke.cluster..", "ducke.config..", "ducke.http..", "ducke.resources..",
                    "ducke.errors..", "ducke.tasks..", "ducke.health..", "ducke.metrics..", "ducke.auth..")
            .as("core/ depends on no adapter of this service");

    @ArchTest
    static final ArchRule hazelcastOnlyInCluster = noClasses().that().resideOutsideOfPackage("ducke.cluster..")
            .should().dependOnClassesThat().resideInAPackage("com.hazelcast..")
            .as("com.hazelcast is imported only from cluster/");

    @ArchTest
    static final ArchRule apiRecordsCarryNoBehaviourDependencies = noClasses().that().resideInAPackage("ducke.api..")
            .should().dependOnClassesThat().resideInAnyPackage("ducke.cluster..", "ducke.http..", "ducke.resources..")
            .as("api/ holds wire records only");
}
