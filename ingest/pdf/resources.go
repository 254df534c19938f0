package pdf

import pdflib "github.com/ledongthuc/pdf"

// This file holds the resource dictionaries a page or form draws with, and
// what has been looked up in them: fonts and form XObjects.

// resources is one resource dictionary with what has been looked up in it.
type resources struct {
	v        pdflib.Value
	fontDict *pdflib.Value
	fontRefs map[string]objKey // the font dictionary's references, unresolved
	fonts    map[string]*font
	xobjDict *pdflib.Value
	forms    map[string]pdflib.Value // form XObjects by name; a null Value for non-forms
}

// newResources wraps a resource dictionary (possibly null).
func newResources(v pdflib.Value) *resources {
	return &resources{v: v}
}

// font returns the font the resources name, loading it once per document.
// A font already loaded for another page is found by its reference alone:
// resolving it again would re-read (and, in an object stream, re-inflate)
// its dictionary on every page.
func (r *resources) font(x *extractor, name []byte) *font {
	if f, ok := r.fonts[string(name)]; ok {
		return f
	}
	if r.fonts == nil {
		r.fonts = make(map[string]*font)
	}
	if len(r.fonts) >= maxPageNames {
		return x.doc.fallback
	}
	if r.fontDict == nil {
		d := r.v.Key("Font")
		r.fontDict = &d
		r.fontRefs = refsOf(d)
	}
	if key, ok := r.fontRefs[string(name)]; ok {
		if f := x.doc.fonts[key]; f != nil {
			r.fonts[string(name)] = f
			return f
		}
	}
	fv := r.fontDict.Key(string(name))
	var f *font
	key, indirect := objKeyOf(fv)
	if dictKey, _ := objKeyOf(*r.fontDict); indirect && key == dictKey {
		indirect = false // a direct dictionary inside the font dictionary
	}
	if indirect {
		f = x.doc.fonts[key]
	}
	if f == nil {
		if fv.Kind() == pdflib.Null {
			f = x.doc.fallback
		} else {
			f = loadFont(fv)
		}
		if indirect && len(x.doc.fonts) < maxDocFonts {
			x.doc.fonts[key] = f
		}
	}
	r.fonts[string(name)] = f
	return f
}

// form returns the form XObject the resources name, or a null Value.
func (r *resources) form(name []byte) pdflib.Value {
	if v, ok := r.forms[string(name)]; ok {
		return v
	}
	if r.forms == nil {
		r.forms = make(map[string]pdflib.Value)
	}
	if r.xobjDict == nil {
		d := r.v.Key("XObject")
		r.xobjDict = &d
	}
	var v pdflib.Value
	if len(r.forms) < maxPageNames {
		if x := r.xobjDict.Key(string(name)); x.Kind() == pdflib.Stream && x.Key("Subtype").Name() == "Form" {
			v = x
		}
		r.forms[string(name)] = v
	}
	return v
}

// formResources returns the resources of a form XObject, shared by every
// drawing of the same form.
func (d *document) formResources(key objKey, indirect bool, v pdflib.Value) *resources {
	if !indirect {
		return newResources(v)
	}
	if r, ok := d.formRes[key]; ok {
		return r
	}
	r := newResources(v)
	if len(d.formRes) < maxDocFonts {
		d.formRes[key] = r
	}
	return r
}
