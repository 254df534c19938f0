package qdrant

// PointID exposes pointID to the external tests.
var PointID = pointID
