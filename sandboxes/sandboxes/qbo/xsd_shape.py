"""Check a QBO JSON body against Intuit's XSDs by rebuilding the XML Intuit would have sent.

Intuit's JSON is a mechanical mapping of its XML: XML attributes and element children both become
JSON members, simple content becomes `value`, repeated elements become arrays. Rebuilding the XML
in schema order and validating it with lxml therefore checks element names, required fields and
enumerations, and any JSON member the schema does not know is reported as an error.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from sandboxes import reference_dir, require

XS = "{http://www.w3.org/2001/XMLSchema}"
NS = "http://schema.intuit.com/finance/v3"
XSD_FILES = tuple(f"qbo/xsd/{name}" for name in (
    "Finance.xsd", "IntuitBaseTypes.xsd", "IntuitNamesTypes.xsd", "IntuitRestServiceDef.xsd", "Report.xsd", "SalesTax.xsd"))


def xsd_dir() -> Path:
    """`QBO_XSD_DIR`, else the vendor reference files' ``qbo/xsd`` (see ``sandboxes.reference_roots``)."""
    override = os.environ.get("QBO_XSD_DIR")
    if override:
        return Path(override)
    require(*XSD_FILES)
    return reference_dir("qbo", "xsd", holding="IntuitRestServiceDef.xsd")


@dataclass
class Particle:
    name: str
    type_name: str | None
    position: int
    required: bool = False


@dataclass
class TypeModel:
    elements: dict[str, Particle] = field(default_factory=dict)
    attributes: set[str] = field(default_factory=set)
    simple_content: bool = False
    simple: bool = False


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class Schema:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.types: dict[str, etree._Element] = {}
        self.elements: dict[str, etree._Element] = {}
        self.substitutes: dict[str, list[str]] = {}
        for path in sorted(directory.glob("*.xsd")):
            root = etree.parse(str(path), _parser()).getroot()
            for node in root:
                name = node.get("name")
                if node.tag in (XS + "complexType", XS + "simpleType") and name:
                    self.types[name] = node
                elif node.tag == XS + "element" and name:
                    self.elements[name] = node
                    group = node.get("substitutionGroup")
                    if group:
                        self.substitutes.setdefault(group, []).append(name)
        self._models: dict[str, TypeModel] = {}
        self._validator: etree.XMLSchema | None = None

    @property
    def validator(self) -> etree.XMLSchema:
        if self._validator is None:
            doc = etree.parse(str(self.directory / "IntuitRestServiceDef.xsd"), _parser())
            self._validator = etree.XMLSchema(doc)
        return self._validator

    def model(self, type_name: str) -> TypeModel:
        if type_name in self._models:
            return self._models[type_name]
        model = TypeModel()
        self._models[type_name] = model
        node = self.types.get(_local(type_name))
        if node is None or node.tag == XS + "simpleType":
            model.simple = True
            return model
        self._collect(node, model)
        return model

    def _collect(self, node: etree._Element, model: TypeModel) -> None:
        for child in node:
            tag = child.tag
            if tag in (XS + "sequence", XS + "choice", XS + "all") or tag == XS + "complexContent":
                self._collect(child, model)
            elif tag == XS + "simpleContent":
                model.simple_content = True
                self._collect(child, model)
            elif tag in (XS + "extension", XS + "restriction"):
                base = child.get("base")
                if base and not base.startswith("xs:"):
                    inherited = self.model(base)
                    for particle in inherited.elements.values():
                        model.elements.setdefault(particle.name, _renumber(particle, model))
                    model.attributes |= inherited.attributes
                    model.simple_content |= inherited.simple_content
                    model.simple = inherited.simple and not inherited.elements
                self._collect(child, model)
            elif tag == XS + "attribute":
                model.attributes.add(child.get("name") or _local(child.get("ref", "")))
            elif tag == XS + "element":
                self._add_element(child, model)

    def _add_element(self, node: etree._Element, model: TypeModel) -> None:
        ref = node.get("ref")
        if ref:
            target = self.elements[_local(ref)]
            if target.get("abstract") == "true":
                for name in self.substitutes.get(_local(ref), []):
                    member = self.elements[name]
                    model.elements.setdefault(
                        name, Particle(name, member.get("type"), len(model.elements))
                    )
                return
            name = _local(ref)
            model.elements.setdefault(name, Particle(name, target.get("type"), len(model.elements)))
            return
        name = node.get("name") or ""
        type_name = node.get("type")
        if type_name is None and len(node):
            type_name = f"__anon__{name}__{id(node)}"
            self.types[type_name] = node[0] if node[0].tag != XS + "annotation" else node[-1]
        required = node.get("minOccurs", "1") != "0"
        model.elements.setdefault(name, Particle(name, type_name, len(model.elements), required))

    def property_names(self, entity: str) -> set[str]:
        return set(self.model(entity).elements) | set(self.model(entity).attributes)

    # JSON -> XML --------------------------------------------------------------------------
    def to_xml(self, tag: str, value: Any, type_name: str | None, errors: list[str], path: str) -> etree._Element:
        element = etree.Element(f"{{{NS}}}{tag}")
        model = self.model(type_name) if type_name else TypeModel(simple=True)
        if not isinstance(value, dict):
            element.text = _text(value)
            if not model.simple and not model.simple_content:
                errors.append(f"{path}: scalar given for complex type {type_name}")
            return element
        children: list[tuple[int, int, etree._Element]] = []
        for key, member in value.items():
            where = f"{path}.{key}"
            if key in model.attributes:
                element.set(key, _text(member))
            elif key == "value" and model.simple_content:
                element.text = _text(member)
            elif key in model.elements:
                particle = model.elements[key]
                items = member if isinstance(member, list) else [member]
                for index, item in enumerate(items):
                    child = self.to_xml(key, item, particle.type_name, errors, f"{where}[{index}]")
                    children.append((particle.position, len(children), child))
            else:
                errors.append(f"{where}: not in the XSD type {type_name}")
        for particle in model.elements.values():
            # Some types declare an "internal use only" extension element (`TransferEx`) without
            # minOccurs="0"; Intuit's JSON never carries it, so it is supplied empty here.
            if particle.required and particle.type_name == "IntuitAnyType" and particle.name not in value:
                children.append((particle.position, len(children), etree.Element(f"{{{NS}}}{particle.name}")))
        for _, _, child in sorted(children, key=lambda c: (c[0], c[1])):
            element.append(child)
        return element

    def check_object(self, entity: str, obj: dict[str, Any]) -> list[str]:
        """Errors (empty when valid) for one entity object, e.g. one element of QueryResponse."""
        errors: list[str] = []
        root = etree.Element(f"{{{NS}}}IntuitResponse", nsmap={None: NS})
        root.append(self.to_xml(entity, obj, self.elements[entity].get("type"), errors, entity))
        return errors + self._validate(root)

    def check_response(self, body: dict[str, Any]) -> list[str]:
        """Errors for a whole response body (`QueryResponse`, `CDCResponse`, `Fault`, an entity)."""
        errors: list[str] = []
        root = self.to_xml("IntuitResponse", body, "IntuitResponse", errors, "$")
        nsroot = etree.Element(f"{{{NS}}}IntuitResponse", nsmap={None: NS})
        for key, val in root.attrib.items():
            nsroot.set(key, val)
        for child in root:
            nsroot.append(child)
        return errors + self._validate(nsroot)

    def check_report(self, body: dict[str, Any]) -> list[str]:
        errors: list[str] = []
        root = etree.Element(f"{{{NS}}}IntuitResponse", nsmap={None: NS})
        root.append(self.to_xml("Report", body, "Report", errors, "Report"))
        return errors + self._validate(root)

    def _validate(self, root: etree._Element) -> list[str]:
        validator = self.validator
        if validator.validate(root):
            return []
        return [f"line {e.line}: {e.message}" for e in validator.error_log]  # type: ignore[attr-defined]


def _renumber(particle: Particle, model: TypeModel) -> Particle:
    return Particle(particle.name, particle.type_name, len(model.elements), particle.required)


def _local(name: str) -> str:
    return name.split(":", 1)[-1]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


@functools.lru_cache(maxsize=1)
def schema() -> Schema:
    return Schema(xsd_dir())
