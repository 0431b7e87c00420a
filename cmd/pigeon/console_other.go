//go:build !unix

package main

// followSize: the window's size is read once, when the console opens.
func (c *console) followSize() {}
