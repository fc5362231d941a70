package main

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	_ "github.com/gocarina/gocsv"
	_ "github.com/microsoft/kiota-abstractions-go"
	_ "github.com/microsoft/kiota-http-go"
	_ "github.com/microsoftgraph/msgraph-sdk-go"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/viper"
	_ "github.com/xuri/excelize/v2"
	_ "golang.org/x/term"
	_ "golang.org/x/text/unicode/norm"
	_ "gopkg.in/yaml.v3"
)

func main() {}
