package io.hupd.diagram;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.RecoveryTable;
import io.hupd.machine.UpdateState;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class DiagramFormatsTest {
    private final MachineModel model = MachineModel.live();

    @Test
    void svgIsWellFormedWithAnIdForEveryStateAndEveryArrow() throws Exception {
        String svg = Diagrams.render(model, Diagrams.Format.SVG);
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        Set<String> ids = new HashSet<>();
        NodeList gs = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "g");
        for (int i = 0; i < gs.getLength(); i++) {
            String id = ((Element) gs.item(i)).getAttribute("id");
            if (!id.isEmpty()) {
                assertTrue(ids.add(id), "duplicate id " + id);
            }
        }
        for (UpdateState s : model.states()) {
            assertTrue(ids.contains("s-" + s.name()), s.name());
        }
        for (MachineModel.Edge e : model.edges()) {
            assertTrue(ids.contains("e-" + e.id()), e.id());
        }
        assertTrue(svg.contains("commit point"));
    }

    @Test
    void textFormatsNameEveryTransition() {
        String puml = Diagrams.render(model, Diagrams.Format.PLANTUML);
        String mmd = Diagrams.render(model, Diagrams.Format.MERMAID);
        String dot = Diagrams.render(model, Diagrams.Format.DOT);
        assertTrue(puml.startsWith("@startuml") || puml.contains("\n@startuml"));
        assertTrue(puml.strip().endsWith("@enduml"));
        assertTrue(mmd.contains("stateDiagram-v2"));
        assertTrue(dot.contains("digraph update_machine {") && dot.strip().endsWith("}"));
        for (MachineModel.Edge e : model.edges()) {
            String arrowEnd = " " + e.to().name() + " : ";
            assertTrue(puml.lines().anyMatch(l -> l.startsWith(e.from().name() + " -") && l.contains(arrowEnd)),
                    "plantuml lacks " + e.id());
            assertTrue(mmd.contains("    " + e.from().name() + " --> " + e.to().name() + ": "), "mermaid lacks " + e.id());
            assertTrue(dot.contains("  " + e.from().name() + " -> " + e.to().name() + " ["), "dot lacks " + e.id());
            for (String label : e.labels()) {
                assertTrue(puml.contains(label) && mmd.contains(label) && dot.contains(label), label);
            }
        }
        assertTrue(puml.contains("SWITCHING_BOOT\\n(commit point)"));
        assertTrue(dot.contains("peripheries=2"));
    }

    @Test
    void recoveryTableHasARowPerStateWithBothTriggers() {
        String md = Diagrams.render(model, Diagrams.Format.RECOVERY);
        for (UpdateState s : UpdateState.values()) {
            String row = md.lines().filter(l -> l.startsWith("| `" + s.name() + "`")).findFirst()
                    .orElseThrow(() -> new AssertionError("no row for " + s));
            assertTrue(row.contains("`" + RecoveryTable.actionFor(s, RecoveryTable.Trigger.POWER_ON) + "`"), row);
            assertTrue(row.endsWith("`" + RecoveryTable.actionFor(s, RecoveryTable.Trigger.PROCESS_RESTART) + "` |"),
                    row);
        }
        assertTrue(md.contains("| `REBOOTING` | AFTER_COMMIT | `VERIFY_BOOT` | `WAIT_FOR_REBOOT` |"), md);
    }
}
