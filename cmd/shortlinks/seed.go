package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/shortlinks/shortlinks/db"
)

// demoBusinesses are local businesses of the kind marketers text about.
var demoBusinesses = []db.NewBusiness{
	{Name: "Rosa's Bakery", City: "Austin", Phone: "+1 512 555 0134", SiteURL: "https://rosasbakery.example.com/"},
	{Name: "Northside Plumbing & Heating", City: "Denver", Phone: "+1 303 555 0172", SiteURL: "https://northsideplumbing.example.com/"},
	{Name: "Bright Smile Dental", City: "Portland", Phone: "+1 503 555 0119", SiteURL: "https://brightsmiledental.example.com/book"},
	{Name: "Iron Temple Gym", City: "Phoenix", Phone: "+1 602 555 0148", SiteURL: "https://irontemplegym.example.com/"},
	{Name: "Café Lumière", City: "Montréal", Phone: "+1 514 555 0166", SiteURL: "https://cafelumiere.example.com/menu"},
	{Name: "Green Thumb Landscaping", City: "Raleigh", Phone: "+1 919 555 0103", SiteURL: "https://greenthumb.example.com/"},
	{Name: "Paws & Claws Grooming", City: "San Diego", Phone: "+1 619 555 0187", SiteURL: "https://pawsandclaws.example.com/appointments"},
	{Name: "Lakeside Auto Repair", City: "Madison", Phone: "+1 608 555 0151", SiteURL: "https://lakesideauto.example.com/"},
	{Name: "Sakura Sushi Bar", City: "Seattle", Phone: "+1 206 555 0129", SiteURL: "https://sakurasushi.example.com/"},
	{Name: "Hometown Hardware", City: "Boise", Phone: "+1 208 555 0140", SiteURL: "https://hometownhardware.example.com/"},
	{Name: "Zen Garden Spa", City: "Santa Fe", Phone: "+1 505 555 0192", SiteURL: "https://zengardenspa.example.com/offers?utm_source=sms"},
	{Name: "Golden Crust Pizzeria", City: "Chicago", Phone: "+1 312 555 0175", SiteURL: "https://goldencrust.example.com/"},
}

// errNotEmpty means seeding was refused because data already exists.
var errNotEmpty = errors.New("database already has businesses; demo data goes only into an empty database")

func seedDemo(ctx context.Context, cfg *config) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	n, err := insertDemo(ctx, store)
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d demo businesses\n", n)
	return nil
}

// insertDemo adds the demo businesses when the database has none.
func insertDemo(ctx context.Context, store *db.Store) (int, error) {
	n, err := store.CountBusinesses(ctx)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, errNotEmpty
	}
	for _, b := range demoBusinesses {
		if _, err := store.CreateBusiness(ctx, b); err != nil {
			return 0, err
		}
	}
	return len(demoBusinesses), nil
}
