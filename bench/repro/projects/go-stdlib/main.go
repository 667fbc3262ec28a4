package main

import "fmt"

func main() { fmt.Println("stdlib only") }
