package pdf

// This file is the graphics and text state the interpreter tracks: the
// transformation matrices and the text parameters that q and Q save.

// matrix is a PDF transformation matrix [a b c d e f].
type matrix [6]float64

// identity returns the identity matrix.
func identity() matrix { return matrix{1, 0, 0, 1, 0, 0} }

// mul returns m × n (apply m, then n).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// apply transforms the point (x, y).
func (m matrix) apply(x, y float64) (float64, float64) {
	return x*m[0] + y*m[2] + m[4], x*m[1] + y*m[3] + m[5]
}

// gstate is the part of the graphics state text extraction needs; q and Q
// save and restore it.
type gstate struct {
	ctm                        matrix
	tc, tw, th, tl, tfs, trise float64
	font                       *font
}

// setParam sets the text state parameter that the one-operand operator op
// (Tc, Tw, Tz, TL or Ts) sets to v.
func (g *gstate) setParam(op string, v float64) {
	switch op {
	case "Tc":
		g.tc = v
	case "Tw":
		g.tw = v
	case "Tz":
		g.th = v / 100 // a percentage
	case "TL":
		g.tl = v
	case "Ts":
		g.trise = v
	}
}
