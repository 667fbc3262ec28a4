package main

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/pkg/errors"
)

func main() {
	id := uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://reehub.example/"))
	fmt.Println(id, errors.New("wrapped").Error())
}
