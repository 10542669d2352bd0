#!/usr/bin/env python3
"""Turn doxygen's XML for the public headers into man(3) pages.

One page per public function (and per documented function-like macro),
named after it, plus one overview page per header (e.g. qbhdb.h.3).

usage: xml2man.py XML_DIR OUT_DIR VERSION
"""
import os
import sys
import time
import xml.etree.ElementTree as ET

MANUAL = "libqb Programmer's Manual"


def roff_escape(text):
    """Escape text for roff and keep lines from starting with a control char."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def squash(text):
    return " ".join(text.split())


def inline_text(elem, skip=("parameterlist", "simplesect")):
    """Plain text of elem and its children, skipping the given sections."""
    parts = [elem.text or ""]
    for child in elem:
        if child.tag not in skip:
            inner = inline_text(child, skip)
            if child.tag == "computeroutput":
                inner = "\x01B" + inner + "\x01R"
            elif child.tag in ("emphasis", "parametername"):
                inner = "\x01I" + inner + "\x01R"
            parts.append(inner)
        parts.append(child.tail or "")
    return "".join(parts)


def fonts(text):
    """Apply the font markers placed by inline_text after escaping."""
    return text.replace("\x01B", "\\fB").replace("\x01I", "\\fI").replace("\x01R", "\\fR")


def para_blocks(desc):
    """Paragraph texts of a description element (lists become bullets)."""
    blocks = []
    if desc is None:
        return blocks
    for para in desc.findall("para"):
        text = squash(inline_text(para, skip=("parameterlist", "simplesect",
                                              "itemizedlist", "orderedlist",
                                              "programlisting")))
        if text:
            blocks.append(("p", text))
        for lst in para.findall("itemizedlist") + para.findall("orderedlist"):
            for item in lst.findall("listitem"):
                blocks.append(("li", squash(inline_text(item))))
        for code in para.findall("programlisting"):
            lines = []
            for line in code.findall("codeline"):
                lines.append("".join(line.itertext()))
            blocks.append(("code", "\n".join(lines)))
    return blocks


def render_blocks(blocks):
    out = []
    for kind, text in blocks:
        if kind == "p":
            out.append(".PP\n" + fonts(roff_escape(text)))
        elif kind == "li":
            out.append(".IP \\(bu 2\n" + fonts(roff_escape(text)))
        else:
            out.append(".PP\n.nf\n.RS 4\n" + roff_escape(text) + "\n.RE\n.fi")
    return "\n".join(out)


def params_of(desc):
    result = []
    if desc is None:
        return result
    for plist in desc.iter("parameterlist"):
        if plist.get("kind") != "param":
            continue
        for item in plist.findall("parameteritem"):
            names = [squash("".join(n.itertext()))
                     for n in item.iter("parametername")]
            pdesc = item.find("parameterdescription")
            text = squash(inline_text(pdesc)) if pdesc is not None else ""
            result.append((", ".join(names), text))
    return result


def sections_of(desc, kind):
    result = []
    if desc is None:
        return result
    for sect in desc.iter("simplesect"):
        if sect.get("kind") == kind:
            result.append(squash(inline_text(sect)))
    return result


def synopsis_of(member):
    kind = member.get("kind")
    name = member.findtext("name")
    if kind == "function":
        rtype = squash("".join(member.find("type").itertext()))
        args = squash(member.findtext("argsstring") or "()")
        prefix = "static inline " if member.get("inline") == "yes" else ""
        sep = "" if rtype.endswith("*") else " "
        return "%s%s%s%s%s;" % (prefix, rtype, sep, name, args)
    params = [squash("".join(p.itertext())) for p in member.findall("param")]
    return "#define %s(%s)" % (name, ", ".join(params))


def related(name, siblings, limit=8):
    """The siblings sharing the longest name prefix with name, in order."""
    def shared(other):
        n = 0
        for a, b in zip(name.lower(), other.lower()):
            if a != b:
                break
            n += 1
        return n
    others = [s for s in siblings if s != name]
    best = sorted(others, key=lambda o: -shared(o))[:limit]
    return [o for o in others if o in best]


def th_date():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    return time.strftime("%Y-%m-%d", time.gmtime(stamp))


def is_public(member):
    name = member.findtext("name") or ""
    if not name or name.startswith("_"):
        return False
    if member.get("kind") == "function":
        # static inline helpers named foo_ are implementation details;
        # exported functions such as qb_log_real_ are not.
        return not (name.endswith("_") and member.get("static") == "yes")
    if name.endswith("_"):
        return False
    # function-like macros, only when documented
    if member.get("kind") == "define" and member.find("param") is not None:
        brief = squash("".join(member.find("briefdescription").itertext()))
        return bool(brief)
    return False


def page_for(member, header, siblings, version, date):
    name = member.findtext("name")
    brief = squash(inline_text(member.find("briefdescription")))
    desc = member.find("detaileddescription")
    out = ['.\\" Generated by docs/xml2man.py from <qb/%s>; do not edit.' % header,
           '.TH "%s" 3 "%s" "%s" "%s"' % (name.upper(), date, version, MANUAL),
           ".SH NAME",
           "%s \\- %s" % (roff_escape(name), fonts(roff_escape(brief.rstrip(". ")
                                                             or name))),
           ".SH SYNOPSIS", ".nf",
           ".B #include <qb/%s>" % header, ".sp",
           "\\fB%s\\fR" % roff_escape(synopsis_of(member)), ".fi"]
    body = render_blocks(para_blocks(desc))
    if brief or body:
        out.append(".SH DESCRIPTION")
        if brief:
            out.append(".PP\n" + fonts(roff_escape(brief)))
        if body:
            out.append(body)
    for title, kind in (("NOTES", "note"), ("WARNINGS", "warning")):
        notes = sections_of(desc, kind)
        if notes:
            out.append(".SH " + title)
            out.extend(".PP\n" + fonts(roff_escape(n)) for n in notes)
    params = params_of(desc)
    if params:
        out.append(".SH PARAMETERS")
        for pname, ptext in params:
            out.append(".TP\n\\fI%s\\fR\n%s" % (roff_escape(pname),
                                                fonts(roff_escape(ptext))))
    returns = sections_of(desc, "return")
    if returns:
        out.append(".SH RETURN VALUE")
        out.extend(".PP\n" + fonts(roff_escape(r)) for r in returns)
    see = related(name, siblings)
    refs = ["\\fB%s\\fR(3)" % roff_escape(header)]
    refs += ["\\fB%s\\fR(3)" % roff_escape(s) for s in see]
    out.append(".SH SEE ALSO\n" + ",\n".join(refs))
    return "\n".join(out) + "\n"


def header_page(header, members, version, date):
    out = ['.\\" Generated by docs/xml2man.py; do not edit.',
           '.TH "%s" 3 "%s" "%s" "%s"' % (header, date, version, MANUAL),
           ".SH NAME",
           "%s \\- functions and macros declared in <qb/%s>" % (
               roff_escape(header), header),
           ".SH SYNOPSIS", ".nf", ".B #include <qb/%s>" % header, ".fi",
           ".SH DESCRIPTION"]
    if not members:
        out.append(".PP\nThis header declares no functions.")
    for member in members:
        brief = squash(inline_text(member.find("briefdescription")))
        out.append(".TP\n\\fB%s\\fR(3)\n%s" % (
            roff_escape(member.findtext("name")), fonts(roff_escape(brief))))
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    xml_dir, out_dir, version = sys.argv[1:]
    date = th_date()
    os.makedirs(out_dir, exist_ok=True)
    index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
    written = 0
    for compound in index.findall("compound"):
        if compound.get("kind") != "file":
            continue
        header = compound.findtext("name")
        if not header.endswith(".h"):
            continue
        tree = ET.parse(os.path.join(xml_dir, compound.get("refid") + ".xml"))
        members = []
        seen = set()
        for member in tree.iter("memberdef"):
            name = member.findtext("name")
            if is_public(member) and name not in seen:
                seen.add(name)
                members.append(member)
        names = [m.findtext("name") for m in members]
        for member in members:
            path = os.path.join(out_dir, member.findtext("name") + ".3")
            with open(path, "w", encoding="utf-8") as f:
                f.write(page_for(member, header, names, version, date))
            written += 1
        with open(os.path.join(out_dir, header + ".3"), "w",
                  encoding="utf-8") as f:
            f.write(header_page(header, members, version, date))
        written += 1
    print("xml2man: wrote %d pages into %s" % (written, out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
