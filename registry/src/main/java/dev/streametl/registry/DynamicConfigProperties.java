package dev.streametl.registry;

import java.util.List;

import javax.enterprise.context.ApplicationScoped;
import javax.enterprise.inject.Produces;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;

/**
 * The list of registry settings that may be changed while it runs. Apicurio's config-index extension makes it at
 * build time, but that extension's build half is not on Maven Central: here the list is empty, so every setting is
 * fixed at start (which the embedded registry never needs to change).
 */
@ApplicationScoped
public class DynamicConfigProperties {

    @Produces
    @ApplicationScoped
    DynamicConfigPropertyList dynamicConfigPropertyList() {
        return new DynamicConfigPropertyList(List.of());
    }
}
